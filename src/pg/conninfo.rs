//! Connection strings the libpq way: `postgres://` URLs and `key=value`
//! strings parsed into libpq's keywords, then completed from libpq's
//! environment (`PGHOST`, …) and defaults, and the password from the
//! password file (`pgpass`). tokio-postgres' own parser knows only part of
//! this (no `verify-full`, no `sslrootcert`, no environment), so it is ours.
//!
//! Secrets (`password`, `sslpassword`) are held in [`ConnInfo`], whose
//! `Debug` hides them; no error raised here quotes any value of the string,
//! only keyword names and positions.

use anyhow::Result;
use std::fmt;

/// The keywords libpq accepts (those it documents; a few we do not act on
/// are accepted and ignored, as a libpq of another build would).
const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "sslmode",
    "sslnegotiation",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "requirepeer",
    "require_auth",
    "channel_binding",
    "gssencmode",
    "gssdelegation",
    "krbsrvname",
    "gsslib",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
    "client_encoding",
    "replication",
    "requiressl",
];

/// Keywords whose values are never shown.
pub const SECRETS: &[&str] = &["password", "sslpassword"];

/// libpq's environment variables and the keyword each sets.
pub const ENV: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLSNI", "sslsni"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGSERVICE", "service"),
    ("PGREQUIREAUTH", "require_auth"),
    ("PGGSSENCMODE", "gssencmode"),
    ("PGCLIENTENCODING", "client_encoding"),
];

/// Keyword → value, in the order given (a later one replaces an earlier).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnInfo {
    params: Vec<(String, String)>,
}

impl fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.params {
            if SECRETS.contains(&k.as_str()) {
                m.entry(k, &"***");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

impl ConnInfo {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Set `key` (replacing any value it had).
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.params.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.params.push((key.to_string(), value)),
        }
    }

    /// Whether `key` was given (even empty).
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Parse a URL (`postgres://` or `postgresql://`) or a `key=value`
    /// string. An empty string is valid: everything comes from the
    /// environment and the defaults.
    pub fn parse(s: &str) -> Result<ConnInfo> {
        let t = s.trim_start();
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            parse_url(t.trim_end())
        } else {
            parse_keyvalue(s)
        }
    }

    /// Fill what was not given from libpq's environment (`lookup` is
    /// `std::env::var`, or a table in tests). Empty variables count as unset,
    /// as in libpq.
    pub fn with_env(mut self, lookup: &dyn Fn(&str) -> Option<String>) -> ConnInfo {
        for (var, key) in ENV {
            if self.has(key) {
                continue;
            }
            if let Some(v) = lookup(var).filter(|v| !v.is_empty()) {
                self.set(key, v);
            }
        }
        self
    }
}

fn invalid(msg: impl fmt::Display) -> anyhow::Error {
    crate::error::usage(format!("invalid connection string: {msg}"))
}

fn check_keyword(key: &str, seen_secret: bool) -> Result<()> {
    if KEYWORDS.contains(&key) {
        return Ok(());
    }
    // A stray word after `password=` may be the rest of an unquoted
    // password: then the word is not shown.
    if seen_secret || key.len() > 40 {
        Err(invalid(
            "an unknown keyword (not shown: it follows a password and may be part of it; quote values that hold spaces: password='a b')",
        ))
    } else {
        Err(invalid(format!("unknown keyword \"{key}\"")))
    }
}

/// libpq's `key = value` syntax: whitespace around `=` allowed, values
/// single-quoted with `\'` and `\\` escapes, or unquoted up to whitespace
/// (where `\` escapes the next character).
fn parse_keyvalue(s: &str) -> Result<ConnInfo> {
    let mut info = ConnInfo::default();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut seen_secret = false;
    let n = chars.len();
    loop {
        while i < n && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= n {
            break;
        }
        let start = i;
        while i < n && !chars[i].is_whitespace() && chars[i] != '=' {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        while i < n && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= n || chars[i] != '=' {
            if seen_secret {
                return Err(invalid(format!(
                    "missing \"=\" after a word at character {} (not shown: it follows a password and may be part of it; quote values that hold spaces: password='a b')",
                    start + 1
                )));
            }
            return Err(invalid(format!("missing \"=\" after \"{key}\"")));
        }
        check_keyword(&key, seen_secret)?;
        i += 1;
        while i < n && chars[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < n && chars[i] == '\'' {
            i += 1;
            loop {
                if i >= n {
                    return Err(invalid(format!(
                        "unterminated quoted value of \"{key}\" (a closing ' is missing)"
                    )));
                }
                match chars[i] {
                    '\\' if i + 1 < n => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    '\'' => {
                        i += 1;
                        break;
                    }
                    c => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < n && !chars[i].is_whitespace() {
                if chars[i] == '\\' && i + 1 < n {
                    value.push(chars[i + 1]);
                    i += 2;
                } else {
                    value.push(chars[i]);
                    i += 1;
                }
            }
        }
        if SECRETS.contains(&key.as_str()) {
            seen_secret = true;
        }
        info.set(&key, value);
    }
    Ok(info)
}

fn percent_decode(s: &str, what: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid(format!("invalid percent-encoding in the URL's {what}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        invalid(format!(
            "the URL's {what} is not UTF-8 after percent-decoding"
        ))
    })
}

/// `postgres://[user[:password]@][host[:port][,host[:port]…]][/dbname][?k=v&…]`
fn parse_url(s: &str) -> Result<ConnInfo> {
    let mut info = ConnInfo::default();
    let rest = &s[s.find("://").expect("checked by caller") + 3..];
    let (before_query, query) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    // libpq: the user info ends at the first '@' before any '/'.
    let net_end = before_query.find('/').unwrap_or(before_query.len());
    let (netloc, path) = (&before_query[..net_end], &before_query[net_end..]);
    let hosts_part = match netloc.find('@') {
        Some(at) => {
            let userinfo = &netloc[..at];
            let (user, pass) = match userinfo.find(':') {
                Some(c) => (&userinfo[..c], Some(&userinfo[c + 1..])),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                info.set("user", percent_decode(user, "user name")?);
            }
            if let Some(p) = pass {
                info.set("password", percent_decode(p, "password")?);
            }
            &netloc[at + 1..]
        }
        None => netloc,
    };
    if !hosts_part.is_empty() {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for h in hosts_part.split(',') {
            let (host, port) = if let Some(v6) = h.strip_prefix('[') {
                let close = v6
                    .find(']')
                    .ok_or_else(|| invalid("an IPv6 host in the URL lacks its closing ]"))?;
                let after = &v6[close + 1..];
                let port = match after.strip_prefix(':') {
                    Some(p) => p,
                    None if after.is_empty() => "",
                    None => return Err(invalid("unexpected text after an IPv6 host in the URL")),
                };
                (v6[..close].to_string(), port)
            } else {
                match h.rfind(':') {
                    Some(c) => (percent_decode(&h[..c], "host")?, &h[c + 1..]),
                    None => (percent_decode(h, "host")?, ""),
                }
            };
            if !port.is_empty() && !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(
                    "the URL's port is not a number (percent-encode any / ? @ : in the user info)",
                ));
            }
            hosts.push(host);
            ports.push(port.to_string());
        }
        if hosts.iter().any(|h| !h.is_empty()) {
            info.set("host", hosts.join(","));
        }
        if ports.iter().any(|p| !p.is_empty()) {
            info.set("port", ports.join(","));
        }
    }
    if let Some(db) = path.strip_prefix('/') {
        if !db.is_empty() {
            info.set("dbname", percent_decode(db, "database name")?);
        }
    }
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                invalid("a URL query parameter lacks its \"=\" (name=value&name=value)")
            })?;
            let k = percent_decode(k, "query")?;
            let v = percent_decode(v, "query")?;
            // JDBC's spelling, which libpq accepts too.
            if k == "ssl" && v == "true" {
                if !info.has("sslmode") {
                    info.set("sslmode", "require");
                }
                continue;
            }
            check_keyword(&k, info.has("password") || info.has("sslpassword"))?;
            info.set(&k, v);
        }
    }
    Ok(info)
}

#[cfg(test)]
#[path = "conninfo_tests.rs"]
mod tests;
