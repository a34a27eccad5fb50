//! `finalize`: keys, indexes, constraints, sequences and statistics, built
//! after the data is in, in parallel over several connections:
//!
//! 1. every index build — each primary key's unique index included — at once
//!    (`CREATE INDEX` takes a SHARE lock, so builds on one table run
//!    side by side);
//! 2. per table: the primary key attached `USING INDEX` (metadata only) and
//!    the CHECK constraints;
//! 3. foreign keys added `NOT VALID`, one after another (each locks two
//!    tables briefly; in sequence they cannot deadlock);
//!    A key whose orphans the mapping acknowledges (`orphans = N`) is not
//!    validated; its orphans are counted after step 4 instead. A key whose
//!    validation finds orphan rows is not a failure either: it stays NOT
//!    VALID, its orphans are counted, and more than acknowledged leave the
//!    table's finalize failed, for the run to exit 3 naming the key;
//! 4. per table, tables in parallel: its foreign keys validated, sequences
//!    moved past the loaded maximum, ANALYZE. `VALIDATE CONSTRAINT` locks
//!    its own table against ANALYZE but the referenced table only against
//!    writes, so one table's validation (a single-threaded join) runs beside
//!    the other tables' statistics instead of before them.
//!
//! 5. the views (`views`), with `CREATE OR REPLACE VIEW`.
//!
//! Every step is skipped when its object exists, so finalize can be rerun
//! after a crash at any point.

use crate::config::mapping::Defaults;
use crate::config::plan::{TablePlan, ViewPlan};
use crate::error;
use crate::pg::catalog;
use crate::pg::connect::Target;
use crate::pg::ident::quote;
use crate::pool::{self, Then};
use crate::shutdown::Shutdown;
use crate::stages::ddl;
use crate::stages::refused::refused_by_postgres;
use crate::state::{self, Stage, Status};
use crate::ui::progress::Steps;
use anyhow::{Context, Result};
use std::sync::Mutex;
use std::time::Instant;
use tokio_postgres::Client;

/// One statement (or a few, run together) and what to say if it fails.
pub struct Step {
    sql: String,
    what: String,
    /// What to add to the error, by SQLSTATE: a hint applies only to the
    /// failure it explains (a full disk is no duplicate key).
    hint: &'static [(&'static str, &'static str)],
    /// A foreign key's validation (source table, key name): rows breaking
    /// it do not fail finalize; the key stays NOT VALID and its orphans
    /// are counted (see [`foreign_key_orphans`]).
    orphans_of: Option<(String, String)>,
}

const DUPLICATE_KEYS: &[(&str, &str)] = &[("23505", " (duplicate keys in the source?)")];
const DUPLICATE_VALUES: &[(&str, &str)] = &[("23505", " (duplicate values in the source?)")];
const KEY_NULLS: &[(&str, &str)] = &[("23502", " (NULL key values in the source?)")];
const ORPHANS: &[(&str, &str)] = &[(
    "23503",
    " (rows whose parent row is missing in the source?)",
)];
const OUTSIDE_ORPHANS: &[(&str, &str)] = &[(
    "23503",
    " (loaded rows whose key has no row in that table of the target: add the missing rows \
     there or set those columns to NULL, then rerun; the key stays NOT VALID until then)",
)];
const NO_HINT: &[(&str, &str)] = &[];

/// A foreign key to a table outside the pipeline (`references_target`)
/// whose table is not in the target: `Some(why)` when it cannot be added.
pub async fn missing_outside_table(
    client: &Client,
    t: &TablePlan,
    fk: &crate::config::plan::ForeignKeyPlan,
) -> Result<Option<String>> {
    if !fk.outside || catalog::table_exists(client, &t.schema, &fk.ref_table).await? {
        return Ok(None);
    }
    Ok(Some(format!(
        "foreign key {} of {} ({}) → {}({}) not added: the target has no table {}",
        fk.name,
        t.qualified(),
        fk.columns.join(", "),
        crate::pg::ident::qualified(&t.schema, &fk.ref_table),
        fk.ref_columns.join(", "),
        crate::pg::ident::qualified(&t.schema, &fk.ref_table),
    )))
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
    steps: Option<std::sync::Arc<Steps>>,
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
async fn run_parallel(b: &Builds, steps: Vec<Step>, n: usize) -> Result<()> {
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
    let res = client.batch_execute(&step.sql).await;
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
async fn run_chains(b: &Builds, chains: Vec<Vec<Step>>, n: usize) -> Result<Vec<(String, String)>> {
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

/// Whether `t`'s index `name` exists already. Another table's index or any
/// other relation of that name is an error: `CREATE INDEX IF NOT EXISTS`
/// would skip ours silently.
async fn index_exists(client: &Client, t: &TablePlan, name: &str) -> Result<bool> {
    if let Some(owner) = catalog::index_owner(client, &t.schema, name).await? {
        if owner == t.target {
            return Ok(true);
        }
        return Err(error::usage(format!(
            "index {name} of {} cannot be created: table {owner} in schema {} already has an index \
             of that name (index names are per schema); rename it in the mapping",
            t.qualified(),
            t.schema
        )));
    }
    if let Some(kind) = catalog::relation_kind(client, &t.schema, name).await? {
        return Err(error::usage(format!(
            "index {name} of {} cannot be created: a {kind} of that name exists in schema {} \
             (tables, views, sequences and indexes share a schema's names); rename the index in the mapping",
            t.qualified(),
            t.schema
        )));
    }
    Ok(false)
}

/// A table's index builds (its primary key's unique index included) and the
/// step that then attaches the primary key and adds the CHECK constraints —
/// each only if its object is missing.
pub async fn key_steps(client: &Client, t: &TablePlan) -> Result<(Vec<Step>, Option<Step>)> {
    let mut builds = Vec::new();
    let mut table_steps = Vec::new();
    if !t.primary_key.is_empty() && !catalog::has_primary_key(client, &t.schema, &t.target).await? {
        // Built but not attached yet (a crash in between): attached only.
        if !index_exists(client, t, &t.pk_name).await? {
            let cols: Vec<String> = t.primary_key.iter().map(|c| quote(c)).collect();
            builds.push(Step {
                sql: format!(
                    "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
                    quote(&t.pk_name),
                    t.qualified(),
                    cols.join(", ")
                ),
                what: format!("primary key index of {}", t.qualified()),
                hint: DUPLICATE_KEYS,
                orphans_of: None,
            });
        }
        table_steps.push(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}",
            t.qualified(),
            quote(&t.pk_name),
            quote(&t.pk_name)
        ));
    }
    for ix in &t.indexes {
        if index_exists(client, t, &ix.name).await? {
            continue;
        }
        builds.push(Step {
            sql: ddl::index(t, ix),
            what: format!("index {} on {}", ix.name, t.qualified()),
            hint: if ix.unique { DUPLICATE_VALUES } else { NO_HINT },
            orphans_of: None,
        });
    }
    let attach = (!table_steps.is_empty()).then(|| Step {
        sql: table_steps.join(";\n"),
        what: format!("primary key of {}", t.qualified()),
        hint: KEY_NULLS,
        orphans_of: None,
    });
    Ok((builds, attach))
}

pub async fn finalize(
    b: &Builds,
    client: &mut Client,
    run_id: i64,
    selected: &[&TablePlan],
    views: &[ViewPlan],
) -> Result<FinalizeOutcome> {
    let workers = b.workers;
    state::set_stage(client, run_id, Stage::Finalize, "", Status::Running, None).await?;
    let mut todo = Vec::new();
    for t in selected {
        if state::stage_done(client, run_id, Stage::Finalize, &t.source).await? {
            continue;
        }
        if !state::stage_done(client, run_id, Stage::Copy, &t.source).await? {
            return Err(error::usage(format!(
                "table {} has not been copied yet; finalize needs every selected table copied \
                 (run without --stage, or with --stage copy first)",
                t.source
            )));
        }
        let preexisting = state::table_row(client, run_id, &t.source)
            .await?
            .map(|r| r.preexisting)
            .unwrap_or(true);
        todo.push((*t, preexisting));
    }
    // The application's own tables keep their own keys and indexes.
    let ours: Vec<&TablePlan> = todo
        .iter()
        .filter(|(_, pre)| !pre)
        .map(|(t, _)| *t)
        .collect();

    for t in &ours {
        report_leftovers(client, t).await?;
    }
    // What finalize did not do, per table: said now, and recorded with the
    // table's finalize (CHECKs left out or NOT VALID, foreign keys to
    // outside tables that are not there).
    let mut notes: std::collections::HashMap<&str, Vec<String>> = Default::default();
    // 1. Index builds, all in parallel.
    let mut builds = Vec::new();
    let mut attach = Vec::new();
    for t in &ours {
        let (b, a) = key_steps(client, t).await?;
        builds.extend(b);
        attach.extend(a);
    }
    // One bar: steps done of all known so far, and what is being built.
    let t0 = Instant::now();
    let steps = Steps::new("finalize", (builds.len() + attach.len()) as u64);
    let b = &Builds {
        steps: Some(steps.clone()),
        ..b.clone()
    };
    run_parallel(b, builds, workers).await?;
    // 2. Primary keys attached, CHECKs added: per table, tables in parallel.
    run_parallel(b, attach, workers).await?;
    // CHECKs: added NOT VALID, then validated. One PostgreSQL refuses
    // (it does not translate) is left out, one the loaded rows break stays
    // NOT VALID (enforced for new rows); each is named, none fails the run
    // after the load.
    for t in &ours {
        for n in checks(client, t).await? {
            tracing::warn!("{n}");
            notes.entry(t.source.as_str()).or_default().push(n);
        }
    }
    // 3. Foreign keys added NOT VALID (catalog only), in sequence; 4. each
    // table's chain: validate its foreign keys, sequences, statistics.
    let mut fks = Vec::new();
    let mut chains = Vec::new();
    // Keys whose orphans the mapping acknowledges (`orphans = N`): added
    // NOT VALID and not validated; their orphans are counted below.
    let mut acknowledged = Vec::new();
    for (t, preexisting) in &todo {
        let mut chain = Vec::new();
        for fk in t.foreign_keys.iter().filter(|_| !preexisting) {
            let what = format!(
                "foreign key {} on {} → {}",
                fk.name,
                t.qualified(),
                fk.ref_table
            );
            let exists =
                catalog::constraint_validated(client, &t.schema, &t.target, &fk.name).await?;
            if exists.is_none() {
                if let Some(why) = missing_outside_table(client, t, fk).await? {
                    if !fk.if_exists {
                        return Err(error::blocked(format!(
                            "{why}. Create it (the application's migrations?) and rerun, or set \
                             if_exists = true on this foreign key to load without it"
                        )));
                    }
                    tracing::warn!("{why} (if_exists = true)");
                    notes
                        .entry(t.source.as_str())
                        .or_default()
                        .push(format!("{why} (if_exists = true)"));
                    continue;
                }
            }
            match exists {
                Some(true) => continue,
                Some(false) => {}
                None => fks.push(Step {
                    sql: ddl::foreign_key(t, fk),
                    what: format!("adding {what} (NOT VALID, validated next)"),
                    hint: NO_HINT,
                    orphans_of: None,
                }),
            }
            if fk.orphans > 0 && !fk.outside {
                acknowledged.push((t.source.clone(), fk.name.clone()));
                continue;
            }
            chain.push(Step {
                sql: ddl::validate_foreign_key(t, fk),
                what,
                hint: if fk.outside { OUTSIDE_ORPHANS } else { ORPHANS },
                orphans_of: (!fk.outside).then(|| (t.source.clone(), fk.name.clone())),
            });
        }
        let mut sqls = Vec::new();
        for (col, seq) in catalog::sequences(client, &t.qualified()).await? {
            let floor = t
                .columns
                .iter()
                .find(|c| c.target == col)
                .and_then(|c| c.sequence_floor)
                .unwrap_or(0);
            // The next value is past the largest id loaded (and past the
            // AUTOINCREMENT floor). Said as "this one was used" rather than
            // "max + 1 is next", so a source holding the largest bigint does
            // not overflow here: PostgreSQL then refuses the next id, where
            // SQLite would have picked a random free one.
            sqls.push(format!(
                "SELECT CASE WHEN m >= 1 THEN setval({seq}::regclass, m, true) \
                 ELSE setval({seq}::regclass, 1, false) END \
                 FROM (SELECT greatest(coalesce(max({}), 0), {floor}) AS m FROM {}) s",
                quote(&col),
                t.qualified(),
                seq = crate::pg::ident::literal(&seq),
            ));
        }
        sqls.push(format!("ANALYZE {}", t.qualified()));
        chain.push(Step {
            sql: sqls.join(";\n"),
            what: format!("sequences and statistics of {}", t.qualified()),
            hint: NO_HINT,
            orphans_of: None,
        });
        chains.push(chain);
    }
    steps.add((fks.len() + chains.iter().map(Vec::len).sum::<usize>()) as u64);
    run_parallel(b, fks, 1).await?;
    // Longest first: chains that validate foreign keys.
    chains.sort_by_key(|c| std::cmp::Reverse(c.len()));
    let mut with_orphans = run_chains(b, chains, workers).await?;
    with_orphans.extend(acknowledged);
    let mut unacknowledged: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for (source, key) in &with_orphans {
        let found = todo.iter().find_map(|(t, _)| {
            (&t.source == source)
                .then(|| {
                    t.foreign_keys
                        .iter()
                        .find(|f| &f.name == key)
                        .map(|f| (*t, f))
                })
                .flatten()
        });
        let Some((t, fk)) = found else { continue };
        match foreign_key_orphans(client, t, fk).await? {
            Orphans::Acknowledged(n) => notes.entry(t.source.as_str()).or_default().push(n),
            Orphans::Unacknowledged(n) => {
                unacknowledged.entry(t.source.as_str()).or_default().push(n)
            }
            Orphans::None => {}
        }
    }
    for (t, _) in &todo {
        let (status, note) = match unacknowledged.get(t.source.as_str()) {
            // Not done: a rerun counts its orphans again (after the mapping
            // acknowledges them, it finishes).
            Some(u) => (Status::Failed, Some(u.join("; "))),
            None => (
                Status::Done,
                notes.get(t.source.as_str()).map(|n| n.join("; ")),
            ),
        };
        state::set_stage(
            client,
            run_id,
            Stage::Finalize,
            &t.source,
            status,
            note.as_deref(),
        )
        .await
        .with_context(|| format!("recording finalize of {}", t.source))?;
    }
    // 5. The views, over the loaded tables.
    crate::stages::views::create_views(client, views).await?;
    let unacknowledged: Vec<String> = unacknowledged.into_values().flatten().collect();
    let status = if unacknowledged.is_empty() {
        Status::Done
    } else {
        Status::Failed
    };
    state::set_stage(client, run_id, Stage::Finalize, "", status, None).await?;
    steps.finish();
    let (done, _) = steps.position();
    tracing::info!(
        "finalize done: {done} steps ({:.1}s)",
        t0.elapsed().as_secs_f64()
    );
    Ok(FinalizeOutcome { unacknowledged })
}

/// What finalize leaves for the run to decide on.
#[derive(Debug, Default)]
pub struct FinalizeOutcome {
    /// Foreign keys left NOT VALID because loaded rows break them and the
    /// mapping does not acknowledge that many orphans, one sentence each
    /// (key, count, what to do): the run exits 3.
    pub unacknowledged: Vec<String>,
}

/// What the orphans of a foreign key added NOT VALID come to.
enum Orphans {
    /// None (any more): the key was validated.
    None,
    /// No more than the mapping acknowledges: the note for the summary.
    Acknowledged(String),
    /// More: the message naming the key, the count and the fix.
    Unacknowledged(String),
}

/// Count the loaded rows that break foreign key `fk` of `t` (added NOT
/// VALID) and weigh them against the mapping's `orphans`; a key no row
/// breaks is validated.
async fn foreign_key_orphans(
    client: &Client,
    t: &TablePlan,
    fk: &crate::config::plan::ForeignKeyPlan,
) -> Result<Orphans> {
    let n = count_orphans(client, t, fk).await?;
    let what = format!(
        "foreign key {} on {} ({}) → {}",
        fk.name,
        t.qualified(),
        fk.columns.join(", "),
        fk.ref_table
    );
    if n == 0 {
        client
            .batch_execute(&ddl::validate_foreign_key(t, fk))
            .await
            .map_err(|e| error::from_postgres(&e, format!("validating {what}")))?;
        return Ok(Orphans::None);
    }
    if n <= fk.orphans {
        return Ok(Orphans::Acknowledged(format!(
            "{what} left NOT VALID: {n} orphan row(s) (no parent row), acknowledged (orphans = {} \
             in the mapping); PostgreSQL enforces it for new rows",
            fk.orphans
        )));
    }
    Ok(Orphans::Unacknowledged(format!(
        "{what} left NOT VALID: {n} loaded row(s) reference no parent row, {} acknowledged by the \
         mapping; every row was loaded and PostgreSQL enforces the key for new rows. If these rows \
         are expected, set `orphans = {n}` in this key's [[tables.{}.foreign_keys]] entry of the \
         mapping and rerun; otherwise fix them in the source",
        fk.orphans, t.source
    )))
}

/// Rows of `t` whose key (every column non-NULL) has no row in the
/// referenced table: what `VALIDATE CONSTRAINT` would refuse.
pub async fn count_orphans(
    client: &Client,
    t: &TablePlan,
    fk: &crate::config::plan::ForeignKeyPlan,
) -> Result<u64> {
    let parent = crate::pg::ident::qualified(&t.schema, &fk.ref_table);
    let not_null: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("c.{} IS NOT NULL", quote(c)))
        .collect();
    let join: Vec<String> = fk
        .columns
        .iter()
        .zip(&fk.ref_columns)
        .map(|(c, r)| format!("p.{} = c.{}", quote(r), quote(c)))
        .collect();
    let sql = format!(
        "SELECT count(*) FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {})",
        t.qualified(),
        not_null.join(" AND "),
        join.join(" AND ")
    );
    let n: i64 = client
        .query_one(&sql, &[])
        .await
        .map_err(|e| {
            error::from_postgres(
                &e,
                format!(
                    "counting the orphans of foreign key {} of {}",
                    fk.name,
                    t.qualified()
                ),
            )
        })?
        .get(0);
    Ok(n as u64)
}

/// Add each CHECK of `t` not there yet NOT VALID, then validate it; the
/// notes say which were left out (PostgreSQL refused the expression) or
/// left NOT VALID (rows break them, counted). A lost connection or another
/// failure a rerun may cure is an error, as anywhere.
async fn checks(client: &Client, t: &TablePlan) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    for (name, expr) in &t.checks {
        let validated = catalog::constraint_validated(client, &t.schema, &t.target, name).await?;
        if validated == Some(true) {
            continue;
        }
        let what = format!("CHECK {name} ({expr}) on {}", t.qualified());
        if validated.is_none() {
            let add = format!("{} NOT VALID", ddl::check(t, name, expr));
            tracing::debug!("{add}");
            if let Err(e) = client.batch_execute(&add).await {
                match refused_by_postgres(&e) {
                    Some(why) => {
                        notes.push(format!("{what} left out: PostgreSQL refused it ({why})"));
                        continue;
                    }
                    None => return Err(error::from_postgres(&e, format!("adding {what}"))),
                }
            }
        }
        let validate = format!(
            "ALTER TABLE {} VALIDATE CONSTRAINT {}",
            t.qualified(),
            quote(name)
        );
        if let Err(e) = client.batch_execute(&validate).await {
            if e.code() != Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION) {
                return Err(error::from_postgres(&e, format!("validating {what}")));
            }
            let broken: i64 = client
                .query_one(
                    &format!("SELECT count(*) FROM {} WHERE NOT ({expr})", t.qualified()),
                    &[],
                )
                .await
                .map(|r| r.get(0))
                .unwrap_or(-1);
            let rows = if broken >= 0 {
                format!("{broken} loaded row(s) break it")
            } else {
                "loaded rows break it".into()
            };
            notes.push(format!(
                "{what} left NOT VALID: {rows} (PostgreSQL enforces it for new rows; \
                 fix them, then ALTER TABLE ... VALIDATE CONSTRAINT {name})"
            ));
        }
    }
    Ok(notes)
}

/// Foreign keys and indexes on a table this tool created that the mapping
/// no longer has (left by an earlier run, before the mapping was edited)
/// are named, not dropped: an application may have added its own since.
async fn report_leftovers(client: &Client, t: &TablePlan) -> Result<()> {
    let (fks, indexes) = catalog::keys_and_indexes(client, &t.schema, &t.target).await?;
    for (name, validated) in fks {
        if !t.foreign_keys.iter().any(|f| f.name == name) {
            tracing::warn!(
                "table {} has foreign key {name}{} that the mapping does not have (left by an earlier run?); \
                 kept — drop it with ALTER TABLE {} DROP CONSTRAINT {} if it should go",
                t.qualified(),
                if validated { "" } else { " (NOT VALID)" },
                t.qualified(),
                quote(&name)
            );
        }
    }
    for name in indexes {
        if name != t.pk_name && !t.indexes.iter().any(|i| i.name == name) {
            tracing::warn!(
                "table {} has index {name} that the mapping does not have (left by an earlier run?); \
                 kept — drop it with DROP INDEX {} if it should go",
                t.qualified(),
                crate::pg::ident::qualified(&t.schema, &name)
            );
        }
    }
    Ok(())
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
