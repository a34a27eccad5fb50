//! The Python side of the app-framework tests (the `django` and
//! `sqlalchemy` modules): the venv made by `tests/apps/setup_venv.sh`, and
//! a readable first difference between two ORM dumps.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn apps_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps")
}

/// The venv's python, made if missing (never skipped: without `python3`
/// and PyPI the test fails).
pub fn python() -> PathBuf {
    let o = Command::new(apps_dir().join("setup_venv.sh"))
        .output()
        .expect("run tests/apps/setup_venv.sh (needs bash)");
    assert!(
        o.status.success(),
        "tests/apps/setup_venv.sh failed (python3 with venv and PyPI are required):\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
}

/// stdout of a command that must succeed, else both streams.
pub fn succeeded(what: &str, o: Output) -> String {
    assert!(
        o.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: sqlite {x:?} / postgres {y:?}", i + 1);
        }
    }
    format!(
        "one is a prefix of the other ({} vs {} lines)",
        a.lines().count(),
        b.lines().count()
    )
}
