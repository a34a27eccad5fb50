//! Progress: one bar per table being copied plus an overall bar on a
//! terminal; periodic plain log lines otherwise (CI logs, `nohup`, pipes).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whether bars may be drawn at all (`--no-progress` and `-q` say no);
/// set once by `main`.
static ENABLED: AtomicBool = AtomicBool::new(true);

/// The bars on screen, if any: log lines are printed above them.
static ACTIVE: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// Whether output may be coloured (`--color`, `NO_COLOR`); set by `main`.
static COLOR: AtomicBool = AtomicBool::new(true);

pub fn enable(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

pub fn set_color(on: bool) {
    COLOR.store(on, Ordering::Relaxed);
}

/// A bar template: `{prefix…}` bold only when colour is allowed.
fn template(t: &str) -> ProgressStyle {
    let t = if COLOR.load(Ordering::Relaxed) {
        t.to_string()
    } else {
        t.replace(".bold}", "}")
    };
    ProgressStyle::with_template(&t).expect("static template")
}

fn draw_target(enabled: bool) -> (bool, ProgressDrawTarget) {
    let tty = enabled && ENABLED.load(Ordering::Relaxed) && std::io::stderr().is_terminal();
    let target = if tty {
        ProgressDrawTarget::stderr_with_hz(8)
    } else {
        ProgressDrawTarget::hidden()
    };
    (tty, target)
}

fn activate(multi: &MultiProgress) {
    *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(multi.clone());
}

fn deactivate(multi: &MultiProgress) {
    let mut a = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    *a = None;
    drop(a);
    let _ = multi.clear();
}

/// The writer of log lines (tracing's `fmt` layer writes one event per
/// writer): a whole line is printed above the bars, which are hidden while
/// it is written and drawn again below it, so a line is never cut by a bar
/// and a bar never left behind in the scrollback.
#[derive(Default)]
pub struct LogWriter {
    buf: Vec<u8>,
}

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let write = |buf: &[u8]| {
            let mut e = std::io::stderr().lock();
            let _ = e.write_all(buf);
            let _ = e.flush();
        };
        let active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match active {
            Some(m) => m.suspend(|| write(&self.buf)),
            None => write(&self.buf),
        }
    }
}

/// Steps of a stage that are not rows (finalize's index builds and
/// constraints, verify's tables): one bar, "done of total", and what is
/// running now.
pub struct Steps {
    multi: MultiProgress,
    bar: ProgressBar,
    running: Mutex<Vec<String>>,
}

impl Steps {
    pub fn new(label: &str, total: u64) -> Arc<Steps> {
        let (tty, target) = draw_target(true);
        let multi = MultiProgress::with_draw_target(target);
        let bar = multi.add(ProgressBar::new(total));
        bar.set_style(
            template("{prefix:>12.bold} [{bar:30}] {pos}/{len} {elapsed:>4} {wide_msg}")
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        if tty {
            activate(&multi);
            bar.enable_steady_tick(Duration::from_millis(250));
        }
        Arc::new(Steps {
            multi,
            bar,
            running: Mutex::new(Vec::new()),
        })
    }

    /// More steps became known.
    pub fn add(&self, n: u64) {
        self.bar.inc_length(n);
    }

    pub fn start(&self, what: &str) {
        let mut r = self.running.lock().unwrap_or_else(|e| e.into_inner());
        r.push(what.to_string());
        self.bar.set_message(r.join("; "));
    }

    pub fn done(&self, what: &str) {
        let mut r = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = r.iter().position(|w| w == what) {
            r.remove(i);
        }
        self.bar.set_message(r.join("; "));
        self.bar.inc(1);
    }

    pub fn position(&self) -> (u64, u64) {
        (self.bar.position(), self.bar.length().unwrap_or(0))
    }

    pub fn finish(&self) {
        self.bar.finish();
        deactivate(&self.multi);
    }
}

/// One running step of a [`Steps`] bar: done when dropped, however its
/// scope ends (`continue`, `?`).
pub struct StepGuard<'a> {
    steps: &'a Steps,
    what: String,
}

impl<'a> StepGuard<'a> {
    pub fn new(steps: &'a Steps, what: &str) -> StepGuard<'a> {
        steps.start(what);
        StepGuard {
            steps,
            what: what.to_string(),
        }
    }
}

impl Drop for StepGuard<'_> {
    fn drop(&mut self) {
        self.steps.done(&self.what);
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        deactivate(&self.multi);
    }
}

pub struct Progress {
    multi: MultiProgress,
    bars: Vec<(String, ProgressBar)>,
    overall: ProgressBar,
    tty: bool,
    started: Instant,
}

impl Progress {
    /// `tables`: (name, rows to copy).
    pub fn new(tables: &[(String, u64)], enabled: bool) -> Arc<Progress> {
        let (tty, target) = draw_target(enabled);
        let multi = MultiProgress::with_draw_target(target);
        if tty {
            activate(&multi);
        }
        let style = template(
            "{prefix:>24.bold} [{bar:30}] {human_pos:>11}/{human_len:<11} {rate:>13} ETA {eta}",
        )
        .with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} rows/s", s.per_sec());
            },
        )
        .progress_chars("=> ");
        let total: u64 = tables.iter().map(|t| t.1).sum();
        let overall = multi.add(ProgressBar::new(total));
        overall.set_style(style.clone());
        overall.set_prefix("all tables");
        let bars = tables
            .iter()
            .map(|(name, n)| {
                let b = multi.add(ProgressBar::new(*n));
                b.set_style(style.clone());
                b.set_prefix(truncate(name, 24));
                (name.clone(), b)
            })
            .collect();
        Arc::new(Progress {
            multi,
            bars,
            overall,
            tty,
            started: Instant::now(),
        })
    }

    /// A table's first chunk starts: its rate and ETA count from now, not
    /// from when the bars were drawn.
    pub fn start_table(&self, table: usize) {
        let b = &self.bars[table].1;
        if b.position() == 0 {
            b.reset_elapsed();
            b.reset_eta();
        }
    }

    pub fn inc(&self, table: usize, rows: u64) {
        self.bars[table].1.inc(rows);
        self.overall.inc(rows);
    }

    pub fn finish_table(&self, table: usize) {
        self.bars[table].1.finish();
    }

    pub fn finish(&self) {
        self.overall.finish();
        deactivate(&self.multi);
        let secs = self.started.elapsed().as_secs_f64();
        tracing::info!(
            "copy done: {} rows ({:.0} rows/s, {secs:.1}s)",
            self.overall.position(),
            self.overall.position() as f64 / secs.max(0.001)
        );
    }

    /// Without a terminal: a log line every `every` until `stop` resolves.
    pub async fn log_periodically(
        self: Arc<Self>,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        if self.tty {
            return;
        }
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
            let done = self.overall.position();
            let total = self.overall.length().unwrap_or(0);
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            tracing::info!(
                "copy: {done}/{total} rows ({:.0} rows/s, {:.0}s elapsed)",
                done as f64 / secs,
                secs
            );
            for (name, b) in &self.bars {
                if !b.is_finished() && b.position() > 0 {
                    tracing::info!("  {name}: {}/{}", b.position(), b.length().unwrap_or(0));
                }
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        deactivate(&self.multi);
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
