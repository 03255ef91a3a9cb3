//! `bkt upgrade` for people: what comes with the next image, and what the boot-time apply
//! will do with it.

use super::printer::Printer;
use crate::boot::pending::Pending;
use crate::ops::Exit;
use crate::ops::upgrade::Upgrade;

pub fn render(out: &Printer, u: &Upgrade) {
    if u.exit != Exit::Ok && matches!(u.pending, Pending::Nothing) {
        return;
    }
    match &u.pending {
        Pending::Nothing => println!(
            "This machine runs the newest image ({} found no update).",
            u.tool
        ),
        Pending::Available { version, digest } => {
            let name = version
                .as_deref()
                .or(digest.as_deref())
                .unwrap_or("a newer image");
            println!(
                "An update is available: {name}. `bkt upgrade` stages it and shows what it changes here."
            );
        }
        Pending::Staged(s) => render_staged(out, u, &s.name()),
    }
}

fn render_staged(out: &Printer, u: &Upgrade, name: &str) {
    println!("Staged for the next boot: {name}.");
    if !u.staged_copy {
        println!(
            "The new image carries no bkt repository (/usr/share/bkt), so after the reboot the boot units have nothing to apply."
        );
        return;
    }
    if u.previews.is_empty() {
        println!(
            "Its manifests are the booted image's: after the reboot the boot units change nothing."
        );
        return;
    }
    for p in &u.previews {
        println!("\n{} {}", out.style.bold(&p.id), p.manifest);
        print!("{}", p.diff);
        if let Some(e) = &p.error {
            println!("  cannot tell what it changes here: {e}");
            continue;
        }
        if !p.with_image.is_empty() {
            println!("  Comes with the new image:");
            for line in &p.with_image {
                println!("    {line}");
            }
        }
        if p.will_apply.is_empty() {
            println!("  After the reboot, `apply --boot` has nothing to change here.");
        } else {
            println!("  After the reboot, `apply --boot` will:");
            for line in &p.will_apply {
                println!("    {line}");
            }
        }
        if !p.left_alone.is_empty() {
            println!("  Changed on this machine, reported and left alone:");
            for line in &p.left_alone {
                println!("    {line}");
            }
        }
    }
    if !u.checked_only {
        println!("\nReboot to use it (`bkt upgrade --reboot` does both next time).");
    }
}
