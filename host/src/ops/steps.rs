//! Running the steps of a plan: each change's effects in order, batches of the same command
//! merged into one process and retried one by one when that process fails, progress shown
//! before each runs.

use super::ui::{Failed, Outcome, Progress, Ui};
use crate::exec::Executor;
use crate::model::{Change, Effect, Run};
use crate::sync::Drift;

/// One change to make, with the effects that pass the scope filter.
pub struct Step<'a> {
    pub plugin: &'a str,
    pub change: &'a Change,
    pub effects: Vec<&'a Effect>,
    pub drift: Option<Drift>,
}

/// Runs each step's effects in order; a failed effect ends its step, not the run.
/// Consecutive steps whose single effect is a batchable run with the same command merge into
/// one process (`dnf install -y a b c`); when that process fails, each step is retried alone,
/// so one bad package does not keep the others off the machine.
pub fn execute(ui: &dyn Ui, exec: &Executor, steps: &[Step]) -> Vec<Outcome> {
    let total = steps.len();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut shown = Shown {
        ui,
        last_failure: None,
    };
    // Effects that already ran successfully: several changes may share one (a key written
    // once with the whole new list), and it runs once.
    let mut done: Vec<String> = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let end = batch_end(steps, i);
        let group = &steps[i..end];
        if end > i + 1 {
            announce(ui, &format!("{}-{end}", i + 1), total, group);
            match exec.run(&merge(group), &|line| ui.progress(Progress::Output(line))) {
                Ok(said) => {
                    shown.show(&Ok(said.clone()));
                    outcomes.extend(group.iter().map(|_| Ok(said.clone())));
                }
                Err(e) => {
                    shown.batch_failed(format!("{e:#}"));
                    for (k, step) in group.iter().enumerate() {
                        announce(
                            ui,
                            &(i + k + 1).to_string(),
                            total,
                            std::slice::from_ref(step),
                        );
                        let outcome = run_step(ui, exec, step, &mut done);
                        shown.show(&outcome);
                        outcomes.push(outcome);
                    }
                }
            }
        } else {
            announce(ui, &(i + 1).to_string(), total, group);
            let outcome = run_step(ui, exec, &group[0], &mut done);
            shown.show(&outcome);
            outcomes.push(outcome);
        }
        i = end;
    }
    outcomes
}

/// Progress as shown: a failure in the same words as the one just shown is said once.
struct Shown<'a> {
    ui: &'a dyn Ui,
    last_failure: Option<String>,
}

impl Shown<'_> {
    fn show(&mut self, outcome: &Outcome) {
        match outcome {
            Err(why) if self.last_failure.as_deref() == Some(why.0.as_str()) => {
                self.ui.progress(Progress::FailedAgain)
            }
            Err(why) => {
                self.last_failure = Some(why.0.clone());
                self.ui.progress(Progress::Done(outcome));
            }
            Ok(_) => self.ui.progress(Progress::Done(outcome)),
        }
    }

    fn batch_failed(&mut self, why: String) {
        self.ui.progress(Progress::BatchFailed(&why));
        self.last_failure = Some(why);
    }
}

/// What makes two effects the same one: every field, so two changes that share an effect
/// (a key written once with the whole new list) can be told to.
pub fn effect_key(effect: &Effect) -> String {
    match effect {
        // A file's bytes are summed up by their digest: keys stay small whatever they hold.
        Effect::WriteFile(w) => format!(
            "write {:?} {:o} {}",
            w.path,
            w.mode,
            crate::os::hash::sha256_hex(&w.contents)
        ),
        other => format!("{other:?}"),
    }
}

fn run_step(ui: &dyn Ui, exec: &Executor, step: &Step, done: &mut Vec<String>) -> Outcome {
    let mut said = Vec::new();
    for effect in &step.effects {
        let key = effect_key(effect);
        if done.contains(&key) {
            continue;
        }
        let words = exec
            .run(effect, &|line| ui.progress(Progress::Output(line)))
            .map_err(|e| Failed(format!("{e:#}")))?;
        if !words.is_empty() {
            said.push(words);
        }
        done.push(key);
    }
    Ok(said.join(" / "))
}

/// Says what is running before it runs: an install can take a while.
fn announce(ui: &dyn Ui, place: &str, total: usize, group: &[Step]) {
    let ids: Vec<&str> = group.iter().map(|s| s.change.id.as_str()).collect();
    ui.progress(Progress::Starting {
        place,
        total,
        plugin: group[0].plugin,
        ids: &ids,
    });
}

/// What makes two steps mergeable: same plugin, same program, scope and leading arguments.
fn batch_key<'a>(step: &'a Step) -> Option<(&'a str, &'a Run)> {
    match step.effects.as_slice() {
        [Effect::Run(run)] if run.batch && !run.args.is_empty() => Some((step.plugin, run)),
        _ => None,
    }
}

fn batch_end(steps: &[Step], start: usize) -> usize {
    let Some((plugin, first)) = batch_key(&steps[start]) else {
        return start + 1;
    };
    let prefix = &first.args[..first.args.len() - 1];
    let mut end = start + 1;
    while let Some((p, run)) = steps.get(end).and_then(batch_key) {
        if p != plugin
            || run.program != first.program
            || run.scope != first.scope
            || run.args[..run.args.len() - 1] != *prefix
        {
            break;
        }
        end += 1;
    }
    end
}

fn merge(steps: &[Step]) -> Effect {
    let runs: Vec<&Run> = steps
        .iter()
        .filter_map(|s| batch_key(s).map(|(_, r)| r))
        .collect();
    let first = runs[0];
    let mut args = first.args[..first.args.len() - 1].to_vec();
    args.extend(runs.iter().filter_map(|r| r.args.last().cloned()));
    Effect::Run(Run {
        program: first.program.clone(),
        args,
        scope: first.scope,
        batch: true,
        declared_path: first.declared_path.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scope;

    fn change(id: &str, argv: &[&str], batch: bool) -> Change {
        Change {
            id: id.into(),
            kind: crate::model::ChangeKind::Missing,
            summary: id.into(),
            effects: vec![Effect::Run(Run {
                program: argv[0].into(),
                args: argv[1..].iter().map(|s| s.to_string()).collect(),
                scope: Scope::System,
                batch,
                declared_path: None,
            })],
            wanted: Some("installed".into()),
            live: None,
            live_is_default: false,
            scope: Scope::System,
            next_boot: false,
        }
    }

    fn steps<'a>(changes: &'a [Change], plugin: &'a str) -> Vec<Step<'a>> {
        changes
            .iter()
            .map(|c| Step {
                plugin,
                change: c,
                effects: c.effects.iter().collect(),
                drift: None,
            })
            .collect()
    }

    #[test]
    fn batches_only_runs_that_differ_in_their_last_argument() {
        let changes = [
            change("a", &["dnf", "install", "-y", "a"], true),
            change("b", &["dnf", "install", "-y", "b"], true),
            change("c", &["dnf", "remove", "-y", "c"], true),
            change("d", &["gsettings", "set", "s", "k", "1"], false),
            change("e", &["gsettings", "set", "s", "k", "2"], false),
        ];
        let steps = steps(&changes, "dnf");
        assert_eq!(batch_end(&steps, 0), 2);
        assert_eq!(batch_end(&steps, 2), 3);
        assert_eq!(batch_end(&steps, 3), 4, "unbatchable runs stay alone");
        match merge(&steps[0..2]) {
            Effect::Run(r) => assert_eq!(r.args, ["install", "-y", "a", "b"]),
            other => panic!("{other:?}"),
        }
    }
}
