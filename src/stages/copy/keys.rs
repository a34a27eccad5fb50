//! Keys built while the copy goes on: as soon as a table this tool created
//! is loaded, its index builds start (its primary key's unique index
//! included), then its primary key is attached and its CHECKs added, while
//! other tables still copy. Builds run on `workers` connections of their
//! own, so at most that many statements at a time however many tables
//! finish together. A failure is only logged: `finalize` skips what exists
//! and retries, and reports, whatever failed here. Once the run is stopped
//! no further statement starts.

use crate::config::plan::TablePlan;
use crate::pool::{self, Then};
use crate::shutdown::Shutdown;
use crate::stages::finalize::{self, Builds, Step};
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Client;

/// Where the copy stage announces each fully loaded table.
pub type Announcer = mpsc::UnboundedSender<TablePlan>;

/// The builder of loaded tables' keys. It runs on a thread of its own with
/// a small runtime of its own (its workers borrow from its frame, which a
/// task on the shared runtime cannot). Dropped unawaited (an error on the
/// way, a failed copy) it is aborted: its runtime, connections and all, is
/// dropped, so nothing is left running.
pub struct KeyBuilder {
    done: oneshot::Receiver<()>,
    /// Dropping it aborts the builder.
    _abort: oneshot::Sender<()>,
}

impl KeyBuilder {
    /// Start the builder; tables are announced on the returned sender, and
    /// dropping every sender tells it no more will come.
    pub fn start(b: Builds, shutdown: Shutdown) -> (KeyBuilder, Announcer) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (abort_tx, abort_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel();
        std::thread::spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(async {
                    tokio::select! {
                        () = build(b, rx, shutdown) => {}
                        // Sent or dropped: either way, stop.
                        _ = abort_rx => {}
                    }
                }),
                Err(e) => tracing::warn!(
                    "cannot build keys during the copy (no runtime: {e}); finalize builds them"
                ),
            }
            let _ = done_tx.send(());
        });
        (
            KeyBuilder {
                done: done_rx,
                _abort: abort_tx,
            },
            tx,
        )
    }

    /// After a successful copy: wait for the builds of what was announced
    /// (finalize must not race them). False when the run was stopped
    /// meanwhile: the builder is then abandoned — nothing new starts; a
    /// statement in flight runs on until this process exits and its
    /// connection closes — and the run must stop before finalize.
    pub async fn finish(mut self, mut shutdown: Shutdown) -> bool {
        !shutdown.is_requested()
            && tokio::select! {
                _ = &mut self.done => true,
                _ = shutdown.wait() => false,
            }
    }
}

enum Job {
    /// One index build of table `.0`.
    Build(usize, Step),
    /// Attach table `.0`'s primary key and add its CHECKs, once its builds
    /// are done.
    Attach(usize, Option<Step>),
}

/// A table being built: its builds still running, whether one failed,
/// when it was announced.
struct Building {
    name: String,
    builds_left: usize,
    failed: Vec<String>,
    started: Instant,
}

async fn build(b: Builds, mut loaded: mpsc::UnboundedReceiver<TablePlan>, shutdown: Shutdown) {
    let queue = pool::Queue::open();
    let tables: Mutex<Vec<Building>> = Mutex::new(Vec::new());
    // What each announced table needs is read from the catalog on a
    // connection of the feeder's own.
    let feed = async {
        let client = match b.connect().await {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("cannot build keys during the copy; finalize builds them: {e:#}");
                None
            }
        };
        while let Some(t) = loaded.recv().await {
            let Some(client) = &client else { continue };
            if shutdown.is_requested() {
                break;
            }
            match finalize::key_steps(client, &t).await {
                Ok((builds, attach)) => {
                    let idx = {
                        let mut ts = tables.lock().unwrap();
                        ts.push(Building {
                            name: t.qualified(),
                            builds_left: builds.len(),
                            failed: Vec::new(),
                            started: Instant::now(),
                        });
                        ts.len() - 1
                    };
                    for s in builds {
                        queue.push(Job::Build(idx, s));
                    }
                    queue.push(Job::Attach(idx, attach));
                }
                Err(e) => tracing::warn!(
                    "building the keys of {} early failed; finalize retries: {e:#}",
                    t.qualified()
                ),
            }
        }
        queue.close();
    };
    let ready = |j: &Job| match j {
        Job::Build(..) => true,
        Job::Attach(t, _) => tables.lock().unwrap()[*t].builds_left == 0,
    };
    let work = async |client: &mut Client, job: Job| {
        if shutdown.is_requested() {
            return Then::Continue;
        }
        match job {
            Job::Build(t, step) => {
                let res = finalize::run_step(&b, client, &step).await;
                let mut ts = tables.lock().unwrap();
                ts[t].builds_left -= 1;
                if let Err(e) = res {
                    ts[t].failed.push(format!("{e:#}"));
                }
            }
            Job::Attach(t, step) => {
                let failed = std::mem::take(&mut tables.lock().unwrap()[t].failed);
                let res = match (failed.is_empty(), step) {
                    (false, _) => Err(failed.join("; ")),
                    (true, Some(step)) => finalize::run_step(&b, client, &step)
                        .await
                        .map_err(|e| format!("{e:#}")),
                    (true, None) => Ok(()),
                };
                let ts = tables.lock().unwrap();
                match res {
                    Ok(()) => tracing::info!(
                        "keys of {} built as soon as it was loaded ({:.1}s)",
                        ts[t].name,
                        ts[t].started.elapsed().as_secs_f64()
                    ),
                    Err(e) => tracing::warn!(
                        "building the keys of {} early failed; finalize retries: {e}",
                        ts[t].name
                    ),
                }
            }
        }
        if client.is_closed() {
            Then::Stop
        } else {
            Then::Continue
        }
    };
    let run = pool::run_workers(b.workers(), &queue, async || b.connect().await, ready, work);
    let ((), not_connected) = tokio::join!(feed, run);
    for e in not_connected {
        tracing::warn!("a key build connection failed; finalize builds what is left: {e:#}");
    }
}
