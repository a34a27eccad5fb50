//! Runs and their stages: which run of a pipeline is the latest, what it
//! was started from (source fingerprint, mapping hash), and each stage's
//! status per table; plus the advisory locks that keep two runs of one
//! pipeline apart.

use super::{Stage, Status};
use anyhow::{Context, Result};
use tokio_postgres::{Client, GenericClient};

/// How long `try_lock_pipeline` waits for another session to let go.
pub const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Session-level lock so two runs of one pipeline cannot interleave.
/// Returns false when another session still holds it after
/// [`LOCK_PATIENCE`]. The wait is for a run killed a moment ago: its server
/// session ends only once the server notices the client is gone (within
/// `client_connection_check_interval`, see `Target::connect`), and an
/// immediate rerun should resume rather than be told another run is going.
pub async fn try_lock_pipeline(client: &Client, pipeline: &str, schema: &str) -> Result<bool> {
    try_lock(client, &format!("sqlite2pg:{pipeline}:{schema}")).await
}

/// Whether a run of this pipeline holds its lock now (for read-only
/// commands, which must not take it for longer than a glance). A run that
/// ended a moment ago still holds it until the server ends its session:
/// a busy lock is asked again for up to two seconds before it counts.
pub async fn pipeline_busy(client: &Client, pipeline: &str, schema: &str) -> Result<bool> {
    let key = format!("sqlite2pg:{pipeline}:{schema}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let got: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                &[&key],
            )
            .await?
            .get(0);
        if got {
            client
                .execute(
                    "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
                    &[&key],
                )
                .await?;
            return Ok(false);
        }
        if std::time::Instant::now() >= deadline {
            return Ok(true);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Session-level lock on a target schema: two pipelines loading one schema
/// at once would race on its catalog (and each other's tables). False as
/// for [`try_lock_pipeline`].
pub async fn try_lock_schema(client: &Client, schema: &str) -> Result<bool> {
    try_lock(client, &format!("sqlite2pg-schema:{schema}")).await
}

async fn try_lock(client: &Client, key: &str) -> Result<bool> {
    let deadline = std::time::Instant::now() + LOCK_PATIENCE;
    loop {
        let row = client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                &[&key],
            )
            .await?;
        let got: bool = row.get(0);
        if got || std::time::Instant::now() >= deadline {
            return Ok(got);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The pipeline whose latest run into `schema` is running, other than
/// `pipeline` (to name it when the schema lock is taken).
pub async fn running_pipeline(
    client: &Client,
    schema: &str,
    pipeline: &str,
) -> Result<Option<String>> {
    let row = client
        .query_opt(
            "SELECT pipeline FROM sqlite2pg.runs WHERE target_schema = $1 AND pipeline <> $2 \
             AND status = 'running' ORDER BY run_id DESC LIMIT 1",
            &[&schema, &pipeline],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The key every session of a run of this pipeline holds in shared mode.
pub async fn session_lock_key(client: &Client, pipeline: &str, schema: &str) -> Result<i64> {
    let row = client
        .query_one(
            "SELECT hashtextextended('sqlite2pg-sessions:' || $1 || ':' || $2, 0)",
            &[&pipeline, &schema],
        )
        .await?;
    Ok(row.get(0))
}

/// Wait until no session of an earlier run of this pipeline is left on the
/// server. A killed run's worker sessions can outlive it for a moment (until
/// the server notices the client is gone), still running a COPY or an index
/// build; a rerun must not work beside them. They hold the key in shared
/// mode, so taking it exclusively (and releasing it at once) waits them out.
pub async fn wait_for_leftover_sessions(client: &Client, key: i64) -> Result<()> {
    // This one wait is longer than the pipeline's lock_timeout; the
    // session's own is restored after it.
    let own: String = client.query_one("SHOW lock_timeout", &[]).await?.get(0);
    client.batch_execute("SET lock_timeout = '120s'").await?;
    let res = client.execute("SELECT pg_advisory_lock($1)", &[&key]).await;
    client
        .batch_execute(&format!(
            "SET lock_timeout = {}",
            crate::pg::ident::literal(&own)
        ))
        .await?;
    res.context(
        "sessions of an earlier run of this pipeline are still active on the server after 120 s \
         (see pg_stat_activity, application_name = 'sqlite2pg')",
    )?;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&key])
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct RunRow {
    pub run_id: i64,
    pub status: Status,
    pub fingerprint: serde_json::Value,
    pub mapping_hash: String,
    pub source_path: String,
}

pub async fn latest_run(client: &Client, pipeline: &str, schema: &str) -> Result<Option<RunRow>> {
    let row = client
        .query_opt(
            "SELECT run_id, status, fingerprint, mapping_hash, source_path FROM sqlite2pg.runs \
             WHERE pipeline = $1 AND target_schema = $2 ORDER BY run_id DESC LIMIT 1",
            &[&pipeline, &schema],
        )
        .await?;
    row.map(|r| {
        Ok(RunRow {
            run_id: r.get(0),
            status: Status::parse(r.get(1))?,
            fingerprint: r.get(2),
            mapping_hash: r.get(3),
            source_path: r.get(4),
        })
    })
    .transpose()
}

pub async fn new_run(
    client: &Client,
    pipeline: &str,
    schema: &str,
    source_path: &str,
    fingerprint: &serde_json::Value,
    mapping_hash: &str,
) -> Result<i64> {
    let row = client
        .query_one(
            "INSERT INTO sqlite2pg.runs (pipeline, target_schema, source_path, fingerprint, mapping_hash) \
             VALUES ($1, $2, $3, $4, $5) RETURNING run_id",
            &[&pipeline, &schema, &source_path, fingerprint, &mapping_hash],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn set_run_status(
    client: &Client,
    run_id: i64,
    status: Status,
    error: Option<&str>,
) -> Result<()> {
    let status = status.name();
    client
        .execute(
            "UPDATE sqlite2pg.runs SET status = $2, last_error = $3, \
             finished_at = CASE WHEN $2 = 'running' THEN NULL ELSE now() END \
             WHERE run_id = $1",
            &[&run_id, &status, &error],
        )
        .await?;
    Ok(())
}

pub async fn update_run_identity(
    client: &Client,
    run_id: i64,
    fingerprint: &serde_json::Value,
    mapping_hash: &str,
) -> Result<()> {
    client
        .execute(
            "UPDATE sqlite2pg.runs SET fingerprint = $2, mapping_hash = $3 WHERE run_id = $1",
            &[&run_id, fingerprint, &mapping_hash],
        )
        .await?;
    Ok(())
}

pub async fn stage_status(
    client: &impl GenericClient,
    run_id: i64,
    stage: Stage,
    table: &str,
) -> Result<Option<Status>> {
    let stage = stage.name();
    let row = client
        .query_opt(
            "SELECT status FROM sqlite2pg.stages WHERE run_id = $1 AND stage = $2 AND table_name = $3",
            &[&run_id, &stage, &table],
        )
        .await?;
    row.map(|r| Status::parse(r.get(0))).transpose()
}

/// What a finished stage of a table recorded for the operator (e.g. a
/// foreign key it did not add): the `error` text of a stage that is done.
pub async fn stage_note(
    client: &impl GenericClient,
    run_id: i64,
    stage: Stage,
    table: &str,
) -> Result<Option<String>> {
    let stage = stage.name();
    let row = client
        .query_opt(
            "SELECT error FROM sqlite2pg.stages WHERE run_id = $1 AND stage = $2 \
             AND table_name = $3 AND status = 'done'",
            &[&run_id, &stage, &table],
        )
        .await?;
    Ok(row.and_then(|r| r.get(0)))
}

pub async fn stage_done(
    client: &impl GenericClient,
    run_id: i64,
    stage: Stage,
    table: &str,
) -> Result<bool> {
    Ok(stage_status(client, run_id, stage, table).await? == Some(Status::Done))
}

pub async fn set_stage(
    client: &impl GenericClient,
    run_id: i64,
    stage: Stage,
    table: &str,
    status: Status,
    error: Option<&str>,
) -> Result<()> {
    let (stage, status) = (stage.name(), status.name());
    client
        .execute(
            "INSERT INTO sqlite2pg.stages (run_id, stage, table_name, status, error, finished_at) \
             VALUES ($1, $2, $3, $4, $5, CASE WHEN $4 = 'running' THEN NULL ELSE now() END) \
             ON CONFLICT (run_id, stage, table_name) DO UPDATE SET status = EXCLUDED.status, \
             error = EXCLUDED.error, finished_at = EXCLUDED.finished_at, \
             started_at = CASE WHEN EXCLUDED.status = 'running' THEN now() ELSE sqlite2pg.stages.started_at END",
            &[&run_id, &stage, &table, &status, &error],
        )
        .await?;
    Ok(())
}

/// A run that stopped: whatever of it is still marked running (a stage
/// that failed before it could record so) takes the run's status, so
/// `status` never shows a stage running in a run that is not.
pub async fn close_stages(client: &impl GenericClient, run_id: i64, status: Status) -> Result<()> {
    client
        .execute(
            "UPDATE sqlite2pg.stages SET status = $2, finished_at = now() \
             WHERE run_id = $1 AND status = 'running'",
            &[&run_id, &status.name()],
        )
        .await?;
    Ok(())
}

/// Forget a stage's per-table records (used when a stage is rerun on purpose).
pub async fn reset_stage(
    client: &impl GenericClient,
    run_id: i64,
    stage: Stage,
    table: Option<&str>,
) -> Result<()> {
    let stage = stage.name();
    match table {
        Some(t) => client
            .execute(
                "DELETE FROM sqlite2pg.stages WHERE run_id = $1 AND stage = $2 AND table_name IN ($3, '')",
                &[&run_id, &stage, &t],
            )
            .await?,
        None => client
            .execute(
                "DELETE FROM sqlite2pg.stages WHERE run_id = $1 AND stage = $2",
                &[&run_id, &stage],
            )
            .await?,
    };
    Ok(())
}
