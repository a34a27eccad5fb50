//! Where and how finalize's statements run: build connections with their
//! session settings, one statement at a time with its duration logged and
//! its failure told in the operator's words, chains of statements side by
//! side over a few connections. The copy stage's early key builds use the
//! same ([`super::key_steps`], [`run_step`]).

use crate::config::mapping::Defaults;
use crate::error;
use crate::pg::connect::Target;
use crate::pool::{self, Then};
use crate::shutdown::Shutdown;
use crate::ui::progress::Steps;
use anyhow::{Context, Result};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_postgres::Client;

/// One statement (or a few, run together) and what to say if it fails.
pub struct Step {
    /// Its statements, each sent on its own with the extended protocol, so
    /// that no text of the mapping can add a statement (docs/mapping.md,
    /// "SQL in the mapping").
    pub(super) sql: Vec<String>,
    pub(super) what: String,
    /// What to add to the error, by SQLSTATE: a hint applies only to the
    /// failure it explains (a full disk is no duplicate key).
    pub(super) hint: &'static [(&'static str, &'static str)],
    /// A foreign key's validation (source table, key name): rows breaking
    /// it do not fail finalize; the key stays NOT VALID and its orphans
    /// are counted (see [`super::orphans`]).
    pub(super) orphans_of: Option<(String, String)>,
}

/// Where finalize's statements run: the target, the settings every
/// building connection starts with (`maintenance_work_mem` from the
/// mapping, two parallel workers per index build), and how many
/// connections build at once.
#[derive(Clone)]
pub struct Builds {
    target: Target,
    session: String,
    workers: usize,
    /// What the log lines of its steps start with.
    label: &'static str,
    /// The bar its steps advance (finalize's own), if any.
    steps: Option<Arc<Steps>>,
    /// Once a stop is requested no further statement starts.
    stop: Option<Shutdown>,
}

impl Builds {
    pub fn new(target: &Target, d: &Defaults) -> Builds {
        Builds {
            target: target.clone(),
            session: format!(
                "SET maintenance_work_mem = {}; SET max_parallel_maintenance_workers = 2",
                crate::pg::ident::literal(&d.maintenance_work_mem)
            ),
            workers: d.workers,
            label: "finalize",
            stop: None,
            steps: None,
        }
    }

    /// The same, starting no statement once `shutdown` asks to stop.
    pub fn stopping_on(self, shutdown: &Shutdown) -> Builds {
        Builds {
            stop: Some(shutdown.clone()),
            ..self
        }
    }

    /// The same, advancing `steps` (finalize's bar) as its steps run.
    pub(super) fn advancing(self, steps: Arc<Steps>) -> Builds {
        Builds {
            steps: Some(steps),
            ..self
        }
    }

    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(Shutdown::is_requested)
    }

    /// The same, for keys built during the copy stage (so labelled).
    pub fn early(self) -> Builds {
        Builds {
            label: "keys built during the copy",
            ..self
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// A connection for building, its session settings made.
    pub async fn connect(&self) -> Result<Client> {
        let client = self.target.connect().await?;
        client
            .batch_execute(&self.session)
            .await
            .with_context(|| format!("configuring a build session on {}", self.target.shown))?;
        Ok(client)
    }
}

/// Run steps over up to `n` connections; every failure is reported.
pub(super) async fn run_parallel(b: &Builds, steps: Vec<Step>, n: usize) -> Result<()> {
    run_chains(b, steps.into_iter().map(|s| vec![s]).collect(), n)
        .await
        .map(drop)
}

/// A foreign key's validation that rows of the table break (source table,
/// key name): not a failure of finalize, see [`Step::orphans_of`].
#[derive(Debug, thiserror::Error)]
#[error("loaded rows of {0} break foreign key {1}")]
struct OrphansFound(String, String);

/// One step, logged with its duration; on failure the message for the
/// operator: what failed, PostgreSQL's reason, and the step's hint (the
/// SQLSTATE still decides the exit class).
pub async fn run_step(b: &Builds, client: &Client, step: &Step) -> Result<()> {
    let t0 = Instant::now();
    if let Some(s) = &b.steps {
        s.start(&step.what);
    }
    let mut res = Ok(());
    for sql in &step.sql {
        res = client.execute(sql, &[]).await.map(drop);
        if res.is_err() {
            break;
        }
    }
    if let Some(s) = &b.steps {
        s.done(&step.what);
    }
    let e = match res {
        Ok(()) => {
            let secs = t0.elapsed().as_secs_f64();
            tracing::debug!("{}: {} ({secs:.1}s)", b.label, step.what);
            return Ok(());
        }
        Err(e) => e,
    };
    let code = e.code().map(|c| c.code()).unwrap_or_default();
    if let (Some((table, key)), "23503") = (&step.orphans_of, code) {
        return Err(OrphansFound(table.clone(), key.clone()).into());
    }
    let hint = step
        .hint
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("", |(_, h)| *h);
    let mut detail = e
        .as_db_error()
        .map(|d| match d.detail() {
            Some(x) => format!("{}: {x}", d.message()),
            None => d.message().to_string(),
        })
        .unwrap_or_else(|| e.to_string());
    if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
        detail.push_str(
            " — another session holds a lock on this table (find it with \
             pg_blocking_pids / pg_stat_activity); rerun when it is gone",
        );
    }
    Err(error::from_postgres(
        &e,
        format!("{}: {detail}{hint}", step.what),
    ))
}

/// Run chains of steps over up to `n` connections: the steps of one chain
/// in order on one connection (a failed step ends its chain), chains side
/// by side. Every failure is reported. Returns the foreign keys whose
/// validation found orphans (source table, key name); their chains go on.
pub(super) async fn run_chains(
    b: &Builds,
    chains: Vec<Vec<Step>>,
    n: usize,
) -> Result<Vec<(String, String)>> {
    let chains: Vec<Vec<Step>> = chains.into_iter().filter(|c| !c.is_empty()).collect();
    if chains.is_empty() {
        return Ok(Vec::new());
    }
    let found = Mutex::new(Vec::new());
    let workers = n.clamp(1, chains.len());
    let queue = pool::Queue::of(chains);
    let errors = Mutex::new(Vec::new());
    let not_connected = pool::run_workers(
        workers,
        &queue,
        async || b.connect().await,
        |_| true,
        async |client: &mut Client, chain: Vec<Step>| {
            for step in chain {
                if b.stopped() {
                    return Then::Stop;
                }
                if let Err(e) = run_step(b, client, &step).await {
                    if let Some(o) = e.downcast_ref::<OrphansFound>() {
                        found.lock().unwrap().push((o.0.clone(), o.1.clone()));
                        continue;
                    }
                    errors.lock().unwrap().push(e);
                    if client.is_closed() {
                        return Then::Stop;
                    }
                    break;
                }
            }
            Then::Continue
        },
    )
    .await;
    let mut errors = errors.into_inner().unwrap();
    errors.extend(not_connected);
    if let Some(stop) = b.stop.as_ref().filter(|s| s.is_requested()) {
        // What was built is kept; a rerun does the rest.
        errors.insert(
            0,
            stop.error("finalize stopped between statements; what was built is kept"),
        );
    }
    if errors.is_empty() {
        Ok(found.into_inner().unwrap())
    } else {
        Err(error::combine("finalize failed:", errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_sessions_take_maintenance_work_mem_from_the_mapping() {
        let target = Target::parse("postgres://u@localhost/db").unwrap();
        let d = Defaults {
            maintenance_work_mem: "2GB".into(),
            workers: 3,
            ..Defaults::default()
        };
        let b = Builds::new(&target, &d);
        assert_eq!(
            b.session,
            "SET maintenance_work_mem = '2GB'; SET max_parallel_maintenance_workers = 2"
        );
        assert_eq!((b.workers(), b.label), (3, "finalize"));
        assert_eq!(b.early().label, "keys built during the copy");
    }
}
