//! Report lines on stdout that survive a closed pipe: `status | head -1`
//! stops printing quietly instead of panicking (as `println!` does); the
//! command still ends with its own exit code.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Write one line to stdout; after the reader went away, nothing.
pub fn write_line(args: std::fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let r = out.write_fmt(args).and_then(|()| out.write_all(b"\n"));
    if let Err(e) = r {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CLOSED.store(true, Ordering::Relaxed);
        }
    }
}

/// Flush stdout at the end of a command, ignoring a closed pipe.
pub fn flush() {
    if std::io::stdout().flush().is_err() {
        CLOSED.store(true, Ordering::Relaxed);
    }
}

/// `println!` for reports: see the module.
macro_rules! outln {
    () => { $crate::ui::out::write_line(format_args!("")) };
    ($($t:tt)*) => { $crate::ui::out::write_line(format_args!($($t)*)) };
}
pub(crate) use outln;
