//! The PostgreSQL target: which URL (flag, mapping, environment), how it is
//! shown (never with its password), and connections tuned for bulk loading.

use crate::pg::conninfo::ConnInfo;
use crate::pg::tls::{self, SslMode, Tls};
use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres::{Client, Config, NoTls};

/// A driver error with its causes, as one line.
fn error_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        text.push_str(&format!(": {c}"));
        cur = c.source();
    }
    text
}

/// How long any statement of this tool waits for a lock held by another
/// session (an application transaction left open, say) before it fails with
/// a message naming that session, instead of hanging and blocking that
/// table's readers. `defaults.lock_timeout` sets it per pipeline.
pub const DEFAULT_LOCK_TIMEOUT: &str = "60s";

/// When `e` is (or was caused by) a lock wait that timed out: the sessions
/// that hold locks on `relations` (qualified names) now, one line each
/// (pid, application, state and since when, query), read on a connection
/// of its own. `None` for any other error, or when they cannot be read.
pub async fn lock_holders(
    target: &Target,
    e: &anyhow::Error,
    relations: &[String],
) -> Option<String> {
    let timed_out = e.chain().any(|c| {
        c.downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code())
            == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE)
    });
    if !timed_out {
        return None;
    }
    let client = target.connect().await.ok()?;
    let rows = client
        .query(
            "SELECT DISTINCT l.relation::regclass::text, a.pid, coalesce(a.application_name, ''), \
                    coalesce(a.state, ''), \
                    coalesce(to_char(a.state_change, 'YYYY-MM-DD HH24:MI:SS TZ'), ''), \
                    left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 200) \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.granted AND l.pid <> pg_backend_pid() AND l.relation IS NOT NULL \
               AND l.relation IN (SELECT to_regclass(x) FROM unnest($1::text[]) x) \
             ORDER BY 1, 2",
            &[&relations],
        )
        .await
        .ok()?;
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let (rel, pid, app, state, since, query): (
                String,
                i32,
                String,
                String,
                String,
                String,
            ) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
            let app = if app.is_empty() {
                "no application_name".into()
            } else {
                format!("application '{app}'")
            };
            format!("{rel} is locked by pid {pid} ({app}, {state} since {since}): {query}")
        })
        .collect();
    (!lines.is_empty()).then(|| {
        format!(
            "{}\n(end that session's transaction, or pg_terminate_backend(pid), then rerun)",
            lines.join("\n")
        )
    })
}

/// Resolve the target: `--target`, else `target.url` of the mapping (with
/// `${VAR}` expanded), else `DATABASE_URL`, else libpq's environment
/// (`PGHOST`, `PGDATABASE`, …: the empty string, completed by
/// [`Target::parse`]).
pub fn resolve_url(flag: Option<&str>, mapping_url: Option<&str>) -> Result<String> {
    // An empty URL would be libpq's environment alone (the `postgres`
    // database, say): an empty `--target "$URL"` is a mistake, not a choice.
    if let Some(u) = flag {
        if u.trim().is_empty() {
            return Err(crate::error::usage(
                "--target is empty (an unset variable in `--target \"$URL\"`?): pass the target's \
                 URL, or leave --target out to use target.url, DATABASE_URL or libpq's PG* variables",
            ));
        }
        return Ok(u.to_string());
    }
    if let Some(u) = mapping_url {
        if u.trim().is_empty() {
            return Err(crate::error::usage(
                "target.url is empty in the mapping: write the target's URL (or `${VAR}`), or \
                 remove the key to use DATABASE_URL or libpq's PG* variables",
            ));
        }
        return expand_env(u);
    }
    match std::env::var("DATABASE_URL") {
        Ok(u) if !u.is_empty() => Ok(u),
        _ if ["PGHOST", "PGHOSTADDR", "PGDATABASE", "PGSERVICE", "PGPORT", "PGUSER"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty())) =>
        {
            Ok(String::new())
        }
        _ => Err(crate::error::usage(
            "no target database: pass --target URL, set target.url in the mapping file, or set DATABASE_URL (or libpq's PGHOST, PGDATABASE, …)",
        )),
    }
}

/// Expand `${VAR}` references; an unset variable is an error naming it.
pub fn expand_env(s: &str) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| anyhow!("unterminated `${{` in target URL"))?;
        let var = &after[..end];
        let val = match std::env::var(var) {
            Ok(v) if !v.is_empty() => v,
            Ok(_) => {
                return Err(crate::error::usage(format!(
                    "target.url refers to ${{{var}}} but that environment variable is empty"
                )))
            }
            Err(_) => {
                return Err(crate::error::usage(format!(
                    "target.url refers to ${{{var}}} but that environment variable is not set"
                )))
            }
        };
        out.push_str(&val);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The URL as it may be printed: any password replaced by `***`. Works on
/// text that is not a valid URL too, since error messages show those.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    // userinfo of scheme://user:password@host
    if let Some(scheme_end) = out.find("://") {
        let auth_start = scheme_end + 3;
        let auth_end = out[auth_start..]
            .find(['/', '?'])
            .map(|i| auth_start + i)
            .unwrap_or(out.len());
        if let Some(at) = out[auth_start..auth_end].rfind('@') {
            let userinfo = &out[auth_start..auth_start + at];
            if let Some(colon) = userinfo.find(':') {
                let from = auth_start + colon + 1;
                let to = auth_start + at;
                out.replace_range(from..to, "***");
            }
        }
    }
    // password=... in a query string or a key=value connection string.
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find("password=") {
        let boundary = i == 0 || matches!(rest.as_bytes()[i - 1], b'?' | b'&' | b' ');
        result.push_str(&rest[..i + "password=".len()]);
        rest = &rest[i + "password=".len()..];
        if boundary {
            let end = rest.find(['&', ' ']).unwrap_or(rest.len());
            result.push_str("***");
            rest = &rest[end..];
        }
    }
    result.push_str(rest);
    result
}

/// `postgres://user@host:port/dbname` from parsed settings, without the
/// password.
pub fn describe(c: &Config) -> String {
    use tokio_postgres::config::Host;
    let hosts: Vec<String> = c
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(h) => h.clone(),
                Host::Unix(p) => p.display().to_string(),
            };
            match c.get_ports().get(i).or(c.get_ports().first()) {
                Some(p) => format!("{host}:{p}"),
                None => host,
            }
        })
        .collect();
    format!(
        "postgres://{}{}/{}",
        c.get_user().map(|u| format!("{u}@")).unwrap_or_default(),
        hosts.join(","),
        c.get_dbname().unwrap_or("")
    )
}

/// A parsed target: the config to connect with and its printable form.
#[derive(Clone)]
pub struct Target {
    pub config: Config,
    pub shown: String,
    /// Advisory lock key every connection of a run holds in shared mode
    /// (see `state::wait_for_leftover_sessions`).
    pub session_lock: Option<i64>,
    /// How long a statement waits for a lock another session holds
    /// (`defaults.lock_timeout`), as PostgreSQL reads `lock_timeout`.
    pub lock_timeout: String,
    tls: Tls,
}

/// Startup options of every session of this tool: a server, database or
/// role setting must not cancel a load (a database-level
/// `statement_timeout`, say), nor end a session idle in a transaction
/// while the reader fills a batch. Sent in the startup packet, so they hold
/// from the first statement on.
const SESSION_OPTIONS: &str = "-c statement_timeout=0 -c idle_in_transaction_session_timeout=0";

fn home_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(h));
    }
    os_user_field(|pw| pw.pw_dir).map(PathBuf::from)
}

fn os_user() -> Option<String> {
    os_user_field(|pw| pw.pw_name)
}

fn os_user_field(f: impl Fn(&libc::passwd) -> *mut libc::c_char) -> Option<String> {
    // SAFETY: getpwuid returns a pointer to static storage or null; the
    // field is copied out at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() || f(&*pw).is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(f(&*pw))
                .to_string_lossy()
                .into_owned(),
        )
    }
}

fn bad(key: &str, what: &str) -> anyhow::Error {
    crate::error::usage(format!("invalid connection parameter {key}: {what}"))
}

/// The connection parameters as libpq reads them: an empty value is unset.
struct Params<'a>(&'a ConnInfo);

impl<'a> Params<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0.get(key).filter(|v| !v.is_empty())
    }
}

/// What this build cannot honour is refused, never silently ignored: a
/// service file, and security settings.
fn refuse_unsupported(info: &ConnInfo) -> Result<()> {
    if info.get("service").is_some_and(|s| !s.is_empty()) {
        return Err(crate::error::usage(
            "service= / PGSERVICE (pg_service.conf) is not supported yet: give the parameters themselves",
        ));
    }
    for key in [
        "sslcrl",
        "sslcrldir",
        "require_auth",
        "requirepeer",
        "sslpassword",
    ] {
        if info.get(key).is_some_and(|s| !s.is_empty()) {
            return Err(crate::error::usage(format!(
                "connection parameter {key} is not supported by sqlite2pg"
            )));
        }
    }
    if info.get("gssencmode") == Some("require") {
        return Err(crate::error::usage(
            "gssencmode=require: GSSAPI encryption is not supported by sqlite2pg; use TLS (sslmode)",
        ));
    }
    Ok(())
}

/// The servers to try, as libpq lists them.
struct Servers {
    hosts: Vec<String>,
    ports: Vec<u16>,
}

/// Hosts (by name, else by address, else the local socket directory),
/// their addresses and ports.
fn set_servers(config: &mut Config, params: &Params) -> Result<Servers> {
    let hostaddrs: Vec<&str> = params
        .get("hostaddr")
        .map(|h| h.split(',').collect())
        .unwrap_or_default();
    let hosts: Vec<String> = match params.get("host") {
        Some(h) => h.split(',').map(str::to_string).collect(),
        // libpq names the server by its address then (also for TLS).
        None if !hostaddrs.is_empty() => hostaddrs.iter().map(|s| s.to_string()).collect(),
        None => vec![if Path::new("/var/run/postgresql").is_dir() {
            "/var/run/postgresql".to_string()
        } else {
            "/tmp".to_string()
        }],
    };
    for h in &hosts {
        config.host(if h.is_empty() {
            "localhost"
        } else {
            h.as_str()
        });
    }
    for a in &hostaddrs {
        config.hostaddr(
            a.trim()
                .parse()
                .map_err(|_| bad("hostaddr", "not an IP address"))?,
        );
    }
    let ports: Vec<u16> = match params.get("port") {
        Some(p) => p
            .split(',')
            .map(|p| {
                if p.is_empty() {
                    Ok(5432)
                } else {
                    p.trim().parse()
                }
            })
            .collect::<Result<_, _>>()
            .map_err(|_| bad("port", "not a port number"))?,
        None => vec![5432],
    };
    for p in &ports {
        config.port(*p);
    }
    Ok(Servers { hosts, ports })
}

/// User (the OS user by default), database (the user's name by default)
/// and password (else the password file's entry for the first server).
fn set_login(
    config: &mut Config,
    params: &Params,
    servers: &Servers,
    home: Option<&Path>,
) -> Result<()> {
    let user = match params.get("user") {
        Some(u) => u.to_string(),
        None => os_user().ok_or_else(|| {
            crate::error::usage("no user name: set user= in the target, or PGUSER")
        })?,
    };
    config.user(&user);
    let dbname = params.get("dbname").unwrap_or(&user).to_string();
    config.dbname(&dbname);
    let password = match params.get("password") {
        Some(p) => Some(p.to_string()),
        None => {
            let file = match params.get("passfile") {
                Some(f) => Some(PathBuf::from(f)),
                None => home.map(|h| h.join(".pgpass")),
            };
            let port = servers.ports.first().copied().unwrap_or(5432).to_string();
            file.and_then(|f| {
                crate::pg::pgpass::lookup(&f, &servers.hosts[0], &port, &dbname, &user)
            })
        }
    };
    if let Some(p) = password {
        config.password(p);
    }
    Ok(())
}

/// The session's startup options (ours after the operator's), its
/// application name, and how long to wait for and keep the connection.
fn set_session(config: &mut Config, params: &Params) -> Result<()> {
    let options = match params.get("options") {
        Some(o) => format!("{o} {SESSION_OPTIONS}"),
        None => SESSION_OPTIONS.to_string(),
    };
    config.options(options);
    config.application_name(
        params
            .get("application_name")
            .or(params.get("fallback_application_name"))
            .unwrap_or("sqlite2pg"),
    );
    if let Some(t) = params.get("connect_timeout") {
        let secs: u64 = t
            .trim()
            .parse()
            .map_err(|_| bad("connect_timeout", "not a number of seconds"))?;
        // libpq: 0 waits forever; under 2 s counts as 2.
        if secs > 0 {
            config.connect_timeout(Duration::from_secs(secs.max(2)));
        }
    }
    if params.get("keepalives") == Some("0") {
        config.keepalives(false);
    }
    if let Some(k) = params.get("keepalives_idle") {
        config.keepalives_idle(Duration::from_secs(
            k.parse()
                .map_err(|_| bad("keepalives_idle", "not a number of seconds"))?,
        ));
    }
    Ok(())
}

/// libpq's choices of server and handshake, where the driver has them:
/// the others' values are refused.
fn set_protocol(config: &mut Config, params: &Params) -> Result<()> {
    use tokio_postgres::config::{
        ChannelBinding, LoadBalanceHosts, SslNegotiation, TargetSessionAttrs,
    };
    match params.get("target_session_attrs") {
        None | Some("any") => {}
        Some("read-write") => {
            config.target_session_attrs(TargetSessionAttrs::ReadWrite);
        }
        Some(_) => {
            return Err(bad(
                "target_session_attrs",
                "only any and read-write are supported",
            ))
        }
    }
    match params.get("channel_binding") {
        None | Some("prefer") => {}
        Some("disable") => {
            config.channel_binding(ChannelBinding::Disable);
        }
        Some("require") => {
            config.channel_binding(ChannelBinding::Require);
        }
        Some(_) => return Err(bad("channel_binding", "use disable, prefer or require")),
    }
    match params.get("load_balance_hosts") {
        None | Some("disable") => {}
        Some("random") => {
            config.load_balance_hosts(LoadBalanceHosts::Random);
        }
        Some(_) => return Err(bad("load_balance_hosts", "use disable or random")),
    }
    match params.get("sslnegotiation") {
        None | Some("postgres") => {}
        Some("direct") => {
            config.ssl_negotiation(SslNegotiation::Direct);
        }
        Some(_) => return Err(bad("sslnegotiation", "use postgres or direct")),
    }
    Ok(())
}

impl Target {
    /// A URL or key=value string, completed from libpq's environment.
    pub fn parse(url: &str) -> Result<Target> {
        let info = ConnInfo::parse(url)?.with_env(&|k| std::env::var(k).ok());
        Target::from_info(info, home_dir().as_deref())
    }

    /// Settings from libpq keywords (the environment already applied):
    /// libpq's defaults for what is missing, the password from the password
    /// file if none was given.
    pub fn from_info(info: ConnInfo, home: Option<&Path>) -> Result<Target> {
        refuse_unsupported(&info)?;
        let params = Params(&info);
        let mut config = Config::new();
        let servers = set_servers(&mut config, &params)?;
        set_login(&mut config, &params, &servers, home)?;
        set_session(&mut config, &params)?;
        set_protocol(&mut config, &params)?;
        let tls = tls::build(&info, home)?;
        config.ssl_mode(match tls.mode {
            SslMode::Disable | SslMode::Allow => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            _ => PgSslMode::Require,
        });
        // Shown as rebuilt from the parsed settings: no string surgery on
        // the original can leak a password it failed to recognise.
        let mut shown = describe(&config);
        if tls.mode != SslMode::Prefer {
            shown.push_str(&format!("?sslmode={}", tls.mode.name()));
        }
        Ok(Target {
            config,
            shown,
            session_lock: None,
            lock_timeout: DEFAULT_LOCK_TIMEOUT.to_string(),
            tls,
        })
    }

    /// The sslmode in effect (after the environment and the defaults).
    pub fn ssl_mode(&self) -> SslMode {
        self.tls.mode
    }

    /// One connection attempt in `mode`, its background task spawned.
    async fn attempt(&self, mode: PgSslMode) -> Result<Client, tokio_postgres::Error> {
        let mut cfg = self.config.clone();
        cfg.ssl_mode(mode);
        match (&self.tls.connector, mode) {
            (Some(tls), PgSslMode::Prefer | PgSslMode::Require) => {
                let (client, conn) = cfg.connect(tls.clone()).await?;
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!("target connection ended: {e}");
                    }
                });
                Ok(client)
            }
            _ => {
                let (client, conn) = cfg.connect(NoTls).await?;
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!("target connection ended: {e}");
                    }
                });
                Ok(client)
            }
        }
    }

    /// The error of a failed connection, in the operator's words: which
    /// certificate check failed, or the database to create.
    fn connect_error(&self, e: &tokio_postgres::Error, tried: &str) -> anyhow::Error {
        let head = format!("cannot connect to target {}{tried}", self.shown);
        self.failure(e, &head)
    }

    /// `head: why`, in the exit class `e` calls for (a refused certificate:
    /// 4, a rerun will not help).
    fn failure(&self, e: &tokio_postgres::Error, head: &str) -> anyhow::Error {
        let host = self.config.get_hosts().first().map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        });
        let host = host.unwrap_or_default();
        if let Some(why) = tls::certificate_problem(e, &host, &self.tls) {
            return crate::error::blocked(format!("{head}: {why}"));
        }
        let text = error_text(e);
        // The server asked for a password and there was none (a password
        // file others can read is ignored): a rerun as it is fails the same.
        if e.code().is_none() && text.ends_with("password missing") {
            return crate::error::blocked(format!(
                "{head}: {text} (the server asks for a password: put it in the target's URL, in \
                 PGPASSWORD, or in a password file only you can read, mode 0600)"
            ));
        }
        if e.code() == Some(&tokio_postgres::error::SqlState::INVALID_CATALOG_NAME) {
            let db = self.config.get_dbname().unwrap_or_default();
            return crate::error::from_postgres(
                e,
                format!(
                    "{head}: {text} (create it first: createdb -h {host} -p {} -U {} {db})",
                    self.config.get_ports().first().copied().unwrap_or(5432),
                    self.config.get_user().unwrap_or_default(),
                ),
            );
        }
        crate::error::from_postgres(e, format!("{head}: {text}"))
    }

    async fn open(&self) -> Result<Client> {
        // Whether to try the other way after a failure: a TLS or network
        // failure, or the server refusing this kind of connection.
        let retry = |e: &tokio_postgres::Error| e.code().is_none_or(|c| c.code().starts_with("28"));
        match self.tls.mode {
            SslMode::Disable => self
                .attempt(PgSslMode::Disable)
                .await
                .map_err(|e| self.connect_error(&e, "")),
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => self
                .attempt(PgSslMode::Require)
                .await
                .map_err(|e| self.connect_error(&e, "")),
            SslMode::Prefer => match self.attempt(PgSslMode::Prefer).await {
                Ok(c) => Ok(c),
                Err(e1) if retry(&e1) => {
                    tracing::debug!(
                        "TLS connection failed ({}); trying without TLS (sslmode=prefer)",
                        error_text(&e1)
                    );
                    self.attempt(PgSslMode::Disable)
                        .await
                        .map_err(|e2| self.both_failed(&e1, &e2, "with TLS", "without TLS"))
                }
                Err(e) => Err(self.connect_error(&e, "")),
            },
            SslMode::Allow => match self.attempt(PgSslMode::Disable).await {
                Ok(c) => Ok(c),
                Err(e1) if retry(&e1) => {
                    tracing::debug!(
                        "plaintext connection failed ({}); trying TLS (sslmode=allow)",
                        error_text(&e1)
                    );
                    self.attempt(PgSslMode::Require)
                        .await
                        .map_err(|e2| self.both_failed(&e2, &e1, "with TLS", "without TLS"))
                }
                Err(e) => Err(self.connect_error(&e, "")),
            },
        }
    }

    /// Both attempts of prefer/allow failed: the TLS one's reason first;
    /// a refused certificate decides the exit class.
    fn both_failed(
        &self,
        tls_err: &tokio_postgres::Error,
        plain_err: &tokio_postgres::Error,
        a: &str,
        b: &str,
    ) -> anyhow::Error {
        let first = self.failure(tls_err, a);
        let second = self.failure(plain_err, b);
        crate::error::combine(
            &format!(
                "cannot connect to target {} (sslmode={}):",
                self.shown,
                self.tls.mode.name()
            ),
            vec![first, second],
        )
    }

    /// Open a connection; its background task is spawned on the runtime.
    pub async fn connect(&self) -> Result<Client> {
        let client = self.open().await?;
        client
            // The mapping's lock_timeout (validated as digits and a unit)
            // as a quoted literal: no text of the mapping adds a statement.
            .batch_execute(&format!(
                "SET TimeZone = 'UTC'; SET lock_timeout = {}",
                crate::pg::ident::literal(&self.lock_timeout)
            ))
            .await
            .with_context(|| format!("cannot configure session on {}", self.shown))?;
        // A session idle between statements (the target is connected
        // before the source's integrity check) is not ended by a server's
        // idle_session_timeout. PostgreSQL 14+; older servers refuse it.
        if let Err(e) = client.batch_execute("SET idle_session_timeout = 0").await {
            tracing::debug!("idle_session_timeout not available: {e}");
        }
        // If this process dies (kill -9, OOM killer), the server otherwise
        // notices only when it next talks to the client: a statement in
        // progress — building a primary key, or queued for a table lock
        // behind an app's open transaction — runs on for as long as it takes,
        // holding the pipeline lock (so a rerun is refused as "another run is
        // in progress") and, when queued for ACCESS EXCLUSIVE, blocking every
        // reader of that table. With this the server checks the socket every
        // second and cancels the orphaned statement. Best effort: PostgreSQL
        // 14+ on platforms that support it; older servers just refuse it.
        if let Err(e) = client
            .batch_execute("SET client_connection_check_interval = '1s'")
            .await
        {
            tracing::debug!("client_connection_check_interval not available: {e}");
        }
        if let Some(key) = self.session_lock {
            client
                .execute("SELECT pg_advisory_lock_shared($1)", &[&key])
                .await
                .with_context(|| format!("cannot take the session lock on {}", self.shown))?;
        }
        Ok(client)
    }

    /// A connection for a load worker. `synchronous_commit = off` is safe for
    /// exactly-once: a chunk's rows and its `done` mark commit together, so a
    /// server crash can only lose both at once, and the rerun redoes it. The
    /// end of the copy stage commits synchronously, flushing everything.
    pub async fn connect_loader(&self) -> Result<Client> {
        let c = self.connect().await?;
        c.batch_execute("SET synchronous_commit = off")
            .await
            .with_context(|| format!("cannot configure session on {}", self.shown))?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_shown() {
        assert_eq!(
            redact("postgres://bob:s3cret@db:5432/app"),
            "postgres://bob:***@db:5432/app"
        );
        assert!(!redact("postgres://db/app?password=s3cret&sslmode=disable").contains("s3cret"));
        assert!(!redact("host=db password=s3cret dbname=app").contains("s3cret"));
    }

    #[test]
    fn env_expansion_names_missing_variable() {
        std::env::set_var("S2P_TEST_HOST", "dbhost");
        assert_eq!(
            expand_env("postgres://${S2P_TEST_HOST}/x").unwrap(),
            "postgres://dbhost/x"
        );
        let e = expand_env("postgres://${S2P_SURELY_UNSET_VAR}/x").unwrap_err();
        assert!(e.to_string().contains("S2P_SURELY_UNSET_VAR"));
    }

    #[test]
    fn shown_target_is_rebuilt_without_any_password() {
        for (url, secrets) in [
            (
                "postgres://bob:pa/ss?word@db:5433/app",
                &["pa/ss", "word"][..],
            ),
            (
                "host=db port=5433 user=bob password = 'a b c' dbname=app",
                &["a b c"][..],
            ),
            (
                "postgres://bob:s3cret@db/app?sslmode=disable",
                &["s3cret"][..],
            ),
        ] {
            // Either it parses and is shown without the password, or the
            // error says why without it.
            let shown = match Target::parse(url) {
                Ok(t) => {
                    assert!(t.shown.starts_with("postgres://bob@db"), "{}", t.shown);
                    t.shown
                }
                Err(e) => format!("{e:#}"),
            };
            for secret in secrets {
                assert!(!shown.contains(secret), "{url} shown as {shown}");
            }
        }
    }

    #[test]
    fn invalid_url_error_hides_password() {
        let e = Target::parse("postgres://u:topsecret@host:notaport/db")
            .err()
            .unwrap();
        assert!(!format!("{e:#}").contains("topsecret"));
    }
}
