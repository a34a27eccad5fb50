//! The PostgreSQL target: which URL (flag, mapping, environment), how it is
//! shown (never with its password), and connections tuned for bulk loading.

use anyhow::{anyhow, Context, Result};
use tokio_postgres::{Client, Config, NoTls};

/// How long any statement of this tool waits for a lock held by another
/// session (an application transaction left open, say) before it fails with
/// a message, instead of hanging and blocking that table's readers.
pub const LOCK_TIMEOUT: &str = "SET lock_timeout = '60s'";

/// Resolve the target URL: `--target`, else `target.url` of the mapping
/// (with `${VAR}` expanded), else `DATABASE_URL`.
pub fn resolve_url(flag: Option<&str>, mapping_url: Option<&str>) -> Result<String> {
    if let Some(u) = flag {
        return Ok(u.to_string());
    }
    if let Some(u) = mapping_url {
        return expand_env(u);
    }
    match std::env::var("DATABASE_URL") {
        Ok(u) if !u.is_empty() => Ok(u),
        _ => Err(crate::error::usage(
            "no target database: pass --target URL, set target.url in the mapping file, or set DATABASE_URL",
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
        let val = std::env::var(var).map_err(|_| {
            crate::error::usage(format!(
                "target.url refers to ${{{var}}} but that environment variable is not set"
            ))
        })?;
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
}

impl Target {
    pub fn parse(url: &str) -> Result<Target> {
        let config: Config = url
            .parse()
            .map_err(|e| crate::error::usage(format!("invalid target URL {}: {e}", redact(url))))?;
        // Shown as rebuilt from the parsed settings: no string surgery on
        // the original can leak a password it failed to recognise.
        let shown = describe(&config);
        if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            return Err(crate::error::usage(format!(
                "target {shown}: sslmode=require is not supported by this build (TLS is not compiled in); use sslmode=prefer or disable, or a local socket"
            )));
        }
        Ok(Target {
            config,
            shown,
            session_lock: None,
        })
    }

    /// Open a connection; its background task is spawned on the runtime.
    pub async fn connect(&self) -> Result<Client> {
        let (client, conn) = self
            .config
            .connect(NoTls)
            .await
            .with_context(|| format!("cannot connect to target {}", self.shown))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("target connection ended: {e}");
            }
        });
        client
            .batch_execute(&format!(
                "SET application_name = 'sqlite2pg'; SET TimeZone = 'UTC'; {LOCK_TIMEOUT}"
            ))
            .await
            .with_context(|| format!("cannot configure session on {}", self.shown))?;
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
