//! A poller of the target while a run is going: one long-lived connection
//! that reads the tool's state tables and `pg_stat_activity`, so a test can
//! act at the moment the run reaches a stage instead of sleeping.

use std::time::{Duration, Instant};
use tokio_postgres::NoTls;

/// Longest a wait for the tool's sessions to go may take.
const GONE_WITHIN: Duration = Duration::from_secs(60);

/// A long-lived connection for polling the target while a run is going.
/// Errors (e.g. the state schema does not exist yet) read as `None`.
pub struct Pg {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Pg {
    pub fn connect(url: &str) -> Pg {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = rt.block_on(async {
            let (c, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
            tokio::spawn(conn);
            c.batch_execute("SET application_name = 'test-poller'")
                .await
                .unwrap();
            c
        });
        Pg { rt, client }
    }

    pub fn try_scalar(&self, sql: &str) -> Option<String> {
        let msgs = self.rt.block_on(self.client.simple_query(sql)).ok()?;
        msgs.into_iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("NULL").into()),
            _ => None,
        })
    }

    pub fn exec(&self, sql: &str) {
        self.rt
            .block_on(self.client.batch_execute(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub fn try_i64(&self, sql: &str) -> Option<i64> {
        self.try_scalar(sql).and_then(|s| s.parse().ok())
    }

    pub fn i64(&self, sql: &str) -> i64 {
        self.try_i64(sql)
            .unwrap_or_else(|| panic!("query failed or returned no number: {sql}"))
    }

    pub fn done_chunks(&self) -> i64 {
        self.try_i64("SELECT count(*) FROM sqlite2pg.chunks WHERE status = 'done'")
            .unwrap_or(0)
    }

    pub fn stage_status(&self, stage: &str, table: &str) -> Option<String> {
        self.try_scalar(&format!(
            "SELECT status FROM sqlite2pg.stages WHERE stage = '{stage}' AND table_name = '{table}' \
             ORDER BY run_id DESC LIMIT 1"
        ))
    }

    /// Backends of the tool (it sets `application_name = 'sqlite2pg'`).
    pub fn tool_backends(&self) -> i64 {
        self.i64(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'sqlite2pg'",
        )
    }

    /// Wait until no session of the tool is left (a run that failed on its
    /// own has closed its connections by the time it exits).
    pub fn wait_tool_backends_gone(&self) {
        let t0 = Instant::now();
        while self.tool_backends() > 0 {
            assert!(
                t0.elapsed() < GONE_WITHIN,
                "sqlite2pg backends never went away"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The tool's sessions as the server sees them, for failure messages.
    pub fn activity(&self) -> String {
        self.try_scalar(
            "SELECT string_agg(pid || ' ' || state || ' ' || coalesce(wait_event_type, '-') || ' ' \
             || left(query, 60), ' | ') FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .unwrap_or_default()
    }

    /// A one-line picture of the state, for the log.
    pub fn snapshot(&self) -> String {
        let stages = self
            .try_scalar(
                "SELECT string_agg(stage || coalesce(nullif(':' || table_name, ':'), '') || '=' || status, ' ' \
                 ORDER BY stage, table_name) FROM sqlite2pg.stages",
            )
            .unwrap_or_else(|| "no state schema".into());
        format!(
            "runs={} done_chunks={} stages=[{stages}]",
            self.try_i64("SELECT count(*) FROM sqlite2pg.runs")
                .unwrap_or(0),
            self.done_chunks()
        )
    }
}
