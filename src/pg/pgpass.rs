//! libpq's password file (`~/.pgpass`, `PGPASSFILE`, `passfile=`):
//! `host:port:database:user:password` lines, `*` matching anything, `\`
//! escaping `:` and `\`, the first matching line winning. A file readable
//! by group or others is ignored with a warning, as libpq does.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The password for these connection parameters, if a line matches. A Unix
/// socket host (or none) matches `localhost`, as in libpq.
pub fn lookup(file: &Path, host: &str, port: &str, dbname: &str, user: &str) -> Option<String> {
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() {
        tracing::warn!("password file {} is not a plain file", file.display());
        return None;
    }
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(
            "password file {} has group or world access; permissions should be u=rw (0600) or less: ignored",
            file.display()
        );
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let host = if host.is_empty() || host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    find(&text, host, port, dbname, user)
}

/// The first line of `text` matching all four fields.
pub fn find(text: &str, host: &str, port: &str, dbname: &str, user: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields = split(line);
        if fields.len() < 5 {
            continue;
        }
        let ok = |f: &str, v: &str| f == "*" || f == v;
        if ok(&fields[0], host)
            && ok(&fields[1], port)
            && ok(&fields[2], dbname)
            && ok(&fields[3], user)
        {
            // The password is the rest of the line (a ':' in it unescaped
            // is kept, as libpq does).
            return Some(fields[4..].join(":"));
        }
    }
    None
}

fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().unwrap().push(n);
                }
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_follows_libpq() {
        let text = "# comment\n\
                    db1:5432:app:bob:first\n\
                    *:*:*:bob:wild\\:card\n\
                    localhost:5433:*:*:local\n";
        assert_eq!(
            find(text, "db1", "5432", "app", "bob").as_deref(),
            Some("first")
        );
        assert_eq!(
            find(text, "db2", "5432", "app", "bob").as_deref(),
            Some("wild:card")
        );
        assert_eq!(
            find(text, "localhost", "5433", "x", "amy").as_deref(),
            Some("local")
        );
        assert_eq!(find(text, "localhost", "5432", "x", "amy"), None);
        assert_eq!(
            find("h\\:x:1:d:u:p:q", "h:x", "1", "d", "u").as_deref(),
            Some("p:q")
        );
    }

    #[test]
    fn an_open_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgpass");
        std::fs::write(&f, "*:*:*:*:secret\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(lookup(&f, "h", "1", "d", "u"), None);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            lookup(&f, "/var/run/postgresql", "1", "d", "u").as_deref(),
            Some("secret")
        );
    }
}
