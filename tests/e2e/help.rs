//! `--help` is complete: every argument and option described, the target's
//! environment, the exit codes, an example per subcommand.

use crate::common::assert_exit;
use std::process::Command;

fn help(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_sqlite2pg"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert_exit(&o, 0, &[]);
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn every_argument_and_option_is_described() {
    for cmd in ["init", "check", "run", "status", "verify"] {
        let h = help(&[cmd]);
        assert!(h.contains("Examples:\n  sqlite2pg "), "{cmd}: {h}");
        let mut section = "";
        for l in h.lines() {
            if l.ends_with(':') && !l.starts_with(' ') {
                section = l;
                continue;
            }
            if matches!(section, "Arguments:" | "Options:") && l.starts_with("  ") {
                // `  --flag <V>  Description`: two spaces between the two.
                let t = l.trim_start();
                assert!(
                    t.split_once("  ")
                        .is_some_and(|(_, d)| !d.trim().is_empty()),
                    "{cmd}: undescribed `{t}`\n{h}"
                );
            }
        }
    }
}

#[test]
fn exit_codes_and_the_target_s_environment_are_stated() {
    for args in [&[][..], &["run"][..]] {
        let h = help(args);
        for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "130", "143"] {
            assert!(
                h.contains(&format!("\n  {code}")),
                "{args:?}: exit {code}\n{h}"
            );
        }
    }
    let top = help(&[]);
    for var in ["DATABASE_URL", "PGHOST", "PGSSLMODE", "NO_COLOR"] {
        assert!(top.contains(var), "{var}\n{top}");
    }
    for cmd in ["run", "status", "verify"] {
        assert!(help(&[cmd]).contains("DATABASE_URL"), "{cmd}");
    }
}
