//! Progress: one bar per table being copied plus an overall bar on a
//! terminal; periodic plain log lines otherwise (CI logs, `nohup`, pipes).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        let tty = enabled && std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if tty {
            ProgressDrawTarget::stderr_with_hz(8)
        } else {
            ProgressDrawTarget::hidden()
        });
        let style = ProgressStyle::with_template(
            "{prefix:>24.bold} [{bar:30}] {human_pos:>11}/{human_len:<11} {rate:>13} ETA {eta}",
        )
        .expect("static template")
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
        let _ = self.multi.clear();
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

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
