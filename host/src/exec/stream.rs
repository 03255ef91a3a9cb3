//! Running a program while its output is read line by line: each line is handed on as it
//! comes (for `-v` and the live status line), and all of it is kept for the result.

use std::io::{BufRead as _, BufReader, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;

/// What a finished program wrote and how it ended.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `cmd`, calling `line` with each line of its stdout and stderr as it is written (on
/// this thread, in the order they arrive).
pub fn run(cmd: &mut Command, line: &dyn Fn(&str)) -> std::io::Result<Finished> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let (tx, rx) = mpsc::channel::<(bool, Vec<u8>)>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .enumerate()
    .filter_map(|(i, pipe)| pipe.map(|p| (i == 0, p)))
    .map(|(is_stdout, pipe)| {
        let tx = tx.clone();
        std::thread::spawn(move || forward(pipe, is_stdout, &tx))
    })
    .collect();
    drop(tx);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for (is_stdout, bytes) in rx {
        line(String::from_utf8_lossy(&bytes).trim_end());
        let kept = if is_stdout { &mut stdout } else { &mut stderr };
        kept.extend_from_slice(&bytes);
    }
    for reader in readers {
        let _ = reader.join();
    }
    let status = child.wait()?;
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

/// Sends each line of `pipe` (with its newline) until it closes.
fn forward(pipe: Box<dyn Read + Send>, is_stdout: bool, tx: &mpsc::Sender<(bool, Vec<u8>)>) {
    let mut reader = BufReader::new(pipe);
    loop {
        let mut bytes = Vec::new();
        match reader.read_until(b'\n', &mut bytes) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if tx.send((is_stdout, bytes)).is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_handed_on_as_they_come_and_kept() {
        let seen = std::cell::RefCell::new(Vec::new());
        let done = run(
            Command::new("sh").args(["-c", "echo one; echo two >&2; printf three"]),
            &|l| seen.borrow_mut().push(l.to_string()),
        )
        .unwrap();
        assert!(done.status.success());
        assert_eq!(done.stdout, b"one\nthree");
        assert_eq!(done.stderr, b"two\n");
        let mut seen = seen.into_inner();
        seen.sort();
        assert_eq!(seen, ["one", "three", "two"]);
    }
}
