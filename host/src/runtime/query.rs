//! Running a plugin's queries: argv only, no shell, no stdin, a cleared environment, the
//! program resolved by the host, and bounds on time, output and concurrency so a query can
//! neither hang bkt nor fill its memory.

use crate::model::{Output, QueryError};
use crate::os::process::{self, Unresolved};
use crate::os::text::printable;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Processes spawned for queries in this run (shown by `-v`, read by the benchmark).
pub static SPAWNED: AtomicUsize = AtomicUsize::new(0);

/// The most the queries of one plugin call may print together, stdout and stderr: one query
/// or a `query-all` of many share it, so a plugin cannot multiply it by asking more at once.
/// The largest real output (`rpm -qa` with thousands of packages, `gsettings
/// list-recursively`) is a few MiB; past this bkt stops reading and kills the query rather
/// than hold it all in memory.
pub const OUTPUT_CAP: usize = 64 << 20;

/// How much is read from a pipe at a time.
const CHUNK: usize = 64 << 10;

/// What bounds the queries of one plugin call.
#[derive(Debug, Clone)]
pub struct Bounds {
    /// When the query's whole process group is killed: the end of the plugin's call.
    pub deadline: Instant,
    /// Most bytes of stdout and stderr of all the call's queries together.
    pub output_cap: usize,
    /// Bytes the call's queries have printed so far.
    pub spent: std::sync::Arc<AtomicUsize>,
}

/// A query the plugin's declaration lets through: its argv, and the file its program is
/// when the plugin declared one outside the system folders.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub argv: Vec<String>,
    pub program: Option<std::path::PathBuf>,
}

pub fn run(plugin: &str, query: &Admitted, bounds: &Bounds) -> Result<Output, QueryError> {
    let argv = &query.argv;
    let Some((name, args)) = argv.split_first() else {
        return Err(QueryError::Refused("an empty argv".into()));
    };
    let shown = printable(&argv.join(" ")).into_owned();
    if let Some(declared) = &query.program {
        return match process::declared(declared, crate::os::identity::euid()) {
            Ok(path) => spawn(
                plugin,
                &shown,
                process::cleared_declared(name, &path),
                args,
                bounds,
            ),
            Err(_) if !declared.exists() => Err(QueryError::NotFound(format!(
                "{} is not installed here ({} does not exist)",
                printable(name),
                declared.display()
            ))),
            Err(why) => Err(QueryError::Refused(
                printable(&format!("plugin {plugin} may not run {name}: {why}")).into_owned(),
            )),
        };
    }
    let path = match process::resolve(name) {
        Ok(path) => path,
        Err(Unresolved::NotBare) => {
            return Err(QueryError::Refused(format!(
                "plugin {plugin} may not run `{shown}`: a query names its program as a bare \
                 word, which the host looks up in the system folders"
            )));
        }
        Err(Unresolved::NotFound) => {
            return Err(QueryError::NotFound(format!(
                "{} is not installed here (looked in {})",
                printable(name),
                process::searched()
            )));
        }
    };
    spawn(plugin, &shown, process::cleared(name, &path), args, bounds)
}

/// Starts the query's program and reads what it says, within the bounds.
fn spawn(
    plugin: &str,
    shown: &str,
    mut cmd: std::process::Command,
    args: &[String],
    bounds: &Bounds,
) -> Result<Output, QueryError> {
    SPAWNED.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(target: "bkt::query", plugin, "query: {shown}");
    let path = std::path::PathBuf::from(cmd.get_program());
    let child = cmd
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a deadline or the output cap ends everything it
        // started, not only the program itself.
        .process_group(0)
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) => {
            return Err(QueryError::Failed(format!(
                "cannot run {}: {e}",
                path.display()
            )));
        }
    };
    collect(child, bounds).map_err(|stop| {
        QueryError::Failed(match stop {
            Stop::Deadline(limit) => format!(
                "plugin {plugin}: `{shown}` did not finish within the {:.1} s left of the plugin's \
                 time limit and was killed with everything it started (raise it with \
                 --plugin-timeout)",
                limit.as_secs_f64()
            ),
            Stop::Cap => format!(
                "plugin {plugin}: `{shown}` printed more than {} MiB and was killed; bkt reads \
                 at most that much from all the queries of one call",
                bounds.output_cap >> 20
            ),
            Stop::Io(e) => format!("plugin {plugin}: reading the output of `{shown}`: {e}"),
        })
    })
}

/// Why reading a query's output stopped early.
enum Stop {
    Deadline(Duration),
    Cap,
    Io(std::io::Error),
}

/// Reads stdout and stderr together (poll(2), one thread) until both close, then waits for
/// the exit. Past the deadline or the cap the whole group is killed.
fn collect(mut child: Child, bounds: &Bounds) -> Result<Output, Stop> {
    let started = Instant::now();
    let pipes = (child.stdout.take(), child.stderr.take());
    let (Some(mut stdout), Some(mut stderr)) = pipes else {
        kill_group(&mut child);
        return Err(Stop::Io(std::io::Error::other("no pipes to the query")));
    };
    let mut bufs: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut open = [true, true];
    let mut chunk = vec![0u8; CHUNK];
    let fail = |child: &mut Child, stop: Stop| {
        kill_group(child);
        Err(stop)
    };
    while open[0] || open[1] {
        let left = bounds.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return fail(&mut child, Stop::Deadline(bounds.deadline - started));
        }
        let mut fds: Vec<libc::pollfd> = [stdout.as_raw_fd(), stderr.as_raw_fd()]
            .iter()
            .zip(open)
            .map(|(&fd, is_open)| libc::pollfd {
                fd: if is_open { fd } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: `fds` is a valid array of pollfd of the length given; negative fds are
        // ignored by poll.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if ready < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return fail(&mut child, Stop::Io(e));
        }
        for (i, fd) in fds.iter().enumerate() {
            if !open[i] || fd.revents == 0 {
                continue;
            }
            let read = if i == 0 {
                stdout.read(&mut chunk)
            } else {
                stderr.read(&mut chunk)
            };
            match read {
                Ok(0) => open[i] = false,
                Ok(n) if bounds.spent.fetch_add(n, Ordering::Relaxed) + n > bounds.output_cap => {
                    return fail(&mut child, Stop::Cap);
                }
                Ok(n) => bufs[i].extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return fail(&mut child, Stop::Io(e)),
            }
        }
    }
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= bounds.deadline => {
                return fail(&mut child, Stop::Deadline(bounds.deadline - started));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => return fail(&mut child, Stop::Io(e)),
        }
    };
    let [out, err] = bufs;
    Ok(Output {
        status: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    })
}

/// Kills the child's process group and reaps the child.
fn kill_group(child: &mut Child) {
    // The child leads its own group (process_group(0)), and it is not reaped yet, so the
    // group id cannot name anyone else's processes.
    if let Ok(pgid) = i32::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
    let _ = child.wait();
}

/// Runs the admitted queries with at most two processes per core at once (a process spends
/// part of its life starting up and waiting, so a second one per core keeps the cores busy
/// without flooding them); results are in the order given and a refused query keeps its
/// refusal.
pub fn run_all(
    plugin: &str,
    queries: Vec<Result<Admitted, QueryError>>,
    bounds: &Bounds,
) -> Vec<Result<Output, QueryError>> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2)
        .saturating_mul(2)
        .min(queries.len());
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Output, QueryError>>>> =
        queries.iter().map(|_| Mutex::new(None)).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(query) = queries.get(i) else { break };
            let result = match query {
                Ok(query) => run(plugin, query, bounds),
                Err(refused) => Err(refused.clone()),
            };
            if let Ok(mut slot) = results[i].lock() {
                *slot = Some(result);
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 1..workers {
            // A thread that cannot be started only means fewer workers: this one works too.
            if std::thread::Builder::new()
                .name("bkt-query".into())
                .spawn_scoped(s, work)
                .is_err()
            {
                break;
            }
        }
        work();
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(QueryError::Failed(format!(
                    "plugin {plugin}: a query's worker stopped before it finished"
                )))
            })
        })
        .collect()
}

/// A refused query's error for the plugin; logged only when `first` in its call (the call's
/// error counts the rest).
pub fn refused(plugin: &str, why: &str, first: bool) -> QueryError {
    // `why` quotes the plugin's argv.
    let why = printable(why);
    if first {
        tracing::warn!("plugin {plugin} tried a query the host refused: {why}");
    }
    QueryError::Refused(format!("plugin {plugin} may not run it: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Admitted {
        Admitted {
            argv: words.iter().map(|w| w.to_string()).collect(),
            program: None,
        }
    }

    fn bounds(secs: f64, cap: usize) -> Bounds {
        Bounds {
            deadline: Instant::now() + Duration::from_secs_f64(secs),
            output_cap: cap,
            spent: Default::default(),
        }
    }

    #[test]
    fn output_and_status_come_back() {
        let out = run("t", &argv(&["echo", "hello"]), &bounds(10.0, OUTPUT_CAP)).unwrap();
        assert_eq!((out.status, out.stdout.as_str()), (0, "hello\n"));
        let out = run("t", &argv(&["false"]), &bounds(10.0, OUTPUT_CAP)).unwrap();
        assert_eq!(out.status, 1);
    }

    #[test]
    fn the_environment_is_cleared() {
        let out = run("t", &argv(&["env"]), &bounds(10.0, OUTPUT_CAP)).unwrap();
        let mut names: Vec<&str> = out
            .stdout
            .lines()
            .filter_map(|l| l.split('=').next())
            .collect();
        names.sort();
        assert_eq!(names, ["LC_ALL", "PATH"], "{}", out.stdout);
    }

    #[test]
    fn programs_are_bare_names_found_in_system_folders() {
        let e = run("t", &argv(&["/bin/echo", "x"]), &bounds(10.0, OUTPUT_CAP)).unwrap_err();
        assert!(matches!(e, QueryError::Refused(m) if m.contains("bare word")));
        let e = run(
            "t",
            &argv(&["no-such-program-here"]),
            &bounds(10.0, OUTPUT_CAP),
        );
        assert!(matches!(e, Err(QueryError::NotFound(m)) if m.contains("/usr/bin")));
    }

    #[test]
    fn a_query_past_its_deadline_is_killed_with_its_children() {
        // sh starts a sleeping child that would keep the pipe open after sh is killed.
        let e = run(
            "t",
            &argv(&["sh", "-c", "sleep 31.7 & sleep 31.7"]),
            &bounds(0.3, OUTPUT_CAP),
        )
        .unwrap_err();
        assert!(matches!(e, QueryError::Failed(m) if m.contains("did not finish within")));
        // The whole group was killed: no child is left holding the pipe.
        let left = std::process::Command::new("pgrep")
            .args(["-f", "^sleep 31.7$"])
            .output()
            .unwrap();
        assert!(
            left.stdout.is_empty(),
            "a child of the query is still running"
        );
    }

    #[test]
    fn output_past_the_cap_is_not_kept() {
        let e = run("t", &argv(&["yes"]), &bounds(20.0, 4 << 20)).unwrap_err();
        assert!(
            matches!(&e, QueryError::Failed(m) if m.contains("printed more than 4 MiB")),
            "{e:?}"
        );
    }

    #[test]
    fn many_queries_keep_their_order_and_refusals() {
        let mut queries: Vec<Result<Admitted, QueryError>> = (0..20)
            .map(|i| Ok(argv(&["echo", &i.to_string()])))
            .collect();
        queries[3] = Err(QueryError::Refused("no".into()));
        let out = run_all("t", queries, &bounds(20.0, OUTPUT_CAP));
        assert_eq!(out.len(), 20);
        for (i, r) in out.iter().enumerate() {
            match r {
                Ok(o) => assert_eq!(o.stdout, format!("{i}\n")),
                Err(QueryError::Refused(_)) => assert_eq!(i, 3),
                Err(e) => panic!("{i}: {e:?}"),
            }
        }
    }
}
