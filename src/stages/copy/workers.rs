//! The copy's load workers: one PostgreSQL connection each, taking jobs
//! from one queue ([`crate::pool`]). A child of an application's foreign
//! key waits for its parents and a serial table's chunks for each other; a
//! stop skips every job left, a failed parent fails its children, and a
//! lost connection fails every table still queued (a rerun resumes).

use super::keys::Announcer;
use super::{load, CopyTable, Job, Settings, Tally};
use crate::pg::connect::Target;
use crate::pool::{self, Then};
use crate::shutdown::Shutdown;
use crate::ui::progress::Progress;
use anyhow::anyhow;
use std::sync::atomic::Ordering;
use tokio_postgres::Client;

/// What every load worker shares.
pub(super) struct Workers<'a> {
    pub tables: &'a [CopyTable],
    pub tallies: &'a [Tally],
    pub settings: &'a Settings<'a>,
    pub progress: &'a Progress,
    pub shutdown: &'a Shutdown,
    pub target: &'a Target,
    /// Where each loaded table this tool created is announced, when its
    /// keys are built during the copy.
    pub announce: Option<Announcer>,
}

impl Workers<'_> {
    /// Run `jobs` on `count` connections. Returns the stage's own error: a
    /// worker that could not connect, when jobs were left for want of one
    /// (their tables fail with it) or it was the only worker.
    pub async fn run(self, jobs: Vec<Job>, count: usize) -> Option<anyhow::Error> {
        let queue = pool::Queue::of(jobs);
        let open = async || self.target.connect_loader().await;
        // A worker waiting for a parent to load is woken by the stop too.
        let wake_on_stop = async {
            let mut stop = self.shutdown.clone();
            stop.wait().await;
            queue.wake();
            std::future::pending::<()>().await
        };
        let ready = |j: &Job| self.ready(j);
        let work = async |client: &mut Client, job: Job| self.work(client, job, &queue).await;
        let not_connected = tokio::select! {
            r = pool::run_workers(count, &queue, open, ready, work) => r,
            () = wake_on_stop => unreachable!("waits forever after waking"),
        };
        // No more tables to announce: the key builder may finish.
        drop(self.announce);
        // Jobs never started because every worker failed to connect.
        let left = queue.drain();
        let e = not_connected.into_iter().next()?;
        for j in &left {
            self.tallies[j.table].fail(anyhow!("{e:#}").into());
        }
        (!left.is_empty() || count == 1).then_some(e)
    }

    fn ready(&self, j: &Job) -> bool {
        let t = &self.tables[j.table];
        // Once a stop is requested every job is "ready": it is skipped at
        // once, and its table stays pending for the rerun.
        if self.shutdown.is_requested() {
            return true;
        }
        let busy = t.serial && self.tallies[j.table].in_flight.load(Ordering::SeqCst) > 0;
        // A failed parent makes the job ready too: it then fails at once.
        !busy
            && t.deps.iter().all(|&d| {
                self.tallies[d].failed() || self.tallies[d].chunks_left.load(Ordering::SeqCst) == 0
            })
    }

    async fn work(&self, client: &mut Client, job: Job, queue: &pool::Queue<Job>) -> Then {
        let (t, tally) = (&self.tables[job.table], &self.tallies[job.table]);
        if self.shutdown.is_requested() || tally.failed() {
            return Then::Continue;
        }
        if let Some(&d) = t.deps.iter().find(|&&d| self.tallies[d].failed()) {
            tally.fail(
                anyhow!(
                    "not loaded because parent table {} failed (its foreign key needs the parent rows first)",
                    self.tables[d].plan.source
                )
                .into(),
            );
            return Then::Continue;
        }
        tally.in_flight.fetch_add(1, Ordering::SeqCst);
        self.progress.start_table(t.idx);
        let mut stop = self.shutdown.clone();
        let res = tokio::select! {
            r = load::run_job(client, &job, t, tally, self.settings, self.progress) => r,
            _ = stop.wait() => Err(self.shutdown.error("its transaction in flight rolled back").into()),
        };
        tally.in_flight.fetch_sub(1, Ordering::SeqCst);
        match res {
            Ok(()) => {
                let n = job.chunks.len() as u64;
                if tally.chunks_left.fetch_sub(n, Ordering::SeqCst) == n {
                    self.progress.finish_table(t.idx);
                    if let Some(a) = self.announce.as_ref().filter(|_| t.keys_early) {
                        // Nobody listening any more is not an error.
                        let _ = a.send(t.plan.clone());
                    }
                }
                Then::Continue
            }
            Err(e) => {
                let lost = client.is_closed();
                let msg = format!("{:#}", e.error);
                tally.fail(e);
                if !lost {
                    return Then::Continue;
                }
                // The server went away: put nothing else at risk; every
                // table still queued fails too, and a rerun resumes.
                for j in queue.drain() {
                    self.tallies[j.table].fail(anyhow!("target connection lost: {msg}").into());
                }
                Then::Stop
            }
        }
    }
}
