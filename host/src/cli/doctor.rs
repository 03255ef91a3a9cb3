//! `bkt doctor` for people: one line per check, and what to do about what is missing.

use super::printer::Printer;
use crate::app::App;
use crate::ops::doctor;
use crate::ops::{Exit, Report};

pub fn run(app: &App, out: &Printer) -> Exit {
    let report = doctor::run(app);
    if out.human() {
        for c in &report.checks {
            let mark = match (c.ok, c.needed) {
                (true, _) => "ok     ",
                (false, true) => "MISSING",
                (false, false) => "absent ",
            };
            println!("{mark} {}: {}", c.name, c.detail);
            if let (false, true, Some(fix)) = (c.ok, c.needed, &c.fix) {
                println!("        → {fix}");
            }
        }
        match report.missing().count() {
            0 => println!("bkt has what it needs here."),
            n => println!("{n} thing(s) bkt needs here are missing."),
        }
    }
    out.emit(&report);
    report.exit()
}
