use super::*;
use crate::pg::connect::Target;
use crate::pg::tls::{self, SslMode, Verify};
use std::collections::HashMap;

fn err_text(r: Result<ConnInfo>) -> String {
    format!("{:#}", r.expect_err("should not parse"))
}

#[test]
fn keyvalue_follows_libpq() {
    let i = ConnInfo::parse(
        "host=db port = 5433  user=bob password='a \\'b\\' c' dbname=app sslmode=verify-full",
    )
    .unwrap();
    assert_eq!(i.get("host"), Some("db"));
    assert_eq!(i.get("port"), Some("5433"));
    assert_eq!(i.get("password"), Some("a 'b' c"));
    assert_eq!(i.get("sslmode"), Some("verify-full"));
    assert!(!format!("{i:?}").contains("a 'b' c"), "{i:?}");
    assert_eq!(ConnInfo::parse("").unwrap(), ConnInfo::default());
}

#[test]
fn url_follows_libpq() {
    let i = ConnInfo::parse(
        "postgresql://b%40b:p%2Fw%3Fd@h1:5433,[::1]:5434/my%20db?sslmode=require&sslrootcert=/ca.pem&application_name=x",
    )
    .unwrap();
    assert_eq!(i.get("user"), Some("b@b"));
    assert_eq!(i.get("password"), Some("p/w?d"));
    assert_eq!(i.get("host"), Some("h1,::1"));
    assert_eq!(i.get("port"), Some("5433,5434"));
    assert_eq!(i.get("dbname"), Some("my db"));
    assert_eq!(i.get("sslrootcert"), Some("/ca.pem"));
    let i = ConnInfo::parse("postgres://u@h/d?ssl=true").unwrap();
    assert_eq!(i.get("sslmode"), Some("require"));
    let i = ConnInfo::parse("postgres://").unwrap();
    assert_eq!(i, ConnInfo::default());
}

#[test]
fn malformed_strings_never_show_a_secret() {
    for (s, secret) in [
        ("host=db password = hunter2 dbnmae=x", "hunter2"),
        ("host=db password=my secret dbname=x", "secret"),
        ("host=db password='my secret", "my secret"),
        ("password='my secret' dbnmae=x", "my secret"),
        ("password=hunter2 secretword", "secretword"),
        ("postgres://u:hunter2@h:notaport/d", "hunter2"),
        ("postgres://u:hun%ZZter2@h/d", "hun"),
        ("postgres://u:hunter2@h/d?password=x&bogus", "hunter2"),
        ("postgres://u:hunter2@h/d?sslpassword=k3y&ssl%=1", "k3y"),
    ] {
        let e = err_text(ConnInfo::parse(s));
        assert!(!e.contains(secret), "{s} -> {e}");
        assert!(e.contains("invalid connection string"), "{s} -> {e}");
    }
    // A misspelt keyword before any password is named.
    assert!(err_text(ConnInfo::parse("host=db dbnmae=x")).contains("\"dbnmae\""));
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| m.get(k).cloned()
}

#[test]
fn explicit_parameters_win_over_the_environment() {
    let e = env(&[
        ("PGHOST", "envhost"),
        ("PGPORT", "6000"),
        ("PGUSER", "envuser"),
        ("PGDATABASE", "envdb"),
        ("PGSSLMODE", "disable"),
        ("PGPASSWORD", "envpw"),
        ("PGEMPTY", ""),
    ]);
    let i = ConnInfo::parse("postgres://bob@db/app")
        .unwrap()
        .with_env(&e);
    assert_eq!(i.get("host"), Some("db"));
    assert_eq!(i.get("user"), Some("bob"));
    assert_eq!(i.get("dbname"), Some("app"));
    assert_eq!(i.get("port"), Some("6000"));
    assert_eq!(i.get("sslmode"), Some("disable"));
    assert_eq!(i.get("password"), Some("envpw"));
    let t = Target::from_info(i, None).unwrap();
    assert_eq!(t.shown, "postgres://bob@db:6000/app?sslmode=disable");
    assert_eq!(t.config.get_password(), Some(&b"envpw"[..]));
}

#[test]
fn password_file_is_the_last_resort() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let f = home.path().join(".pgpass");
    std::fs::write(&f, "db:5432:app:bob:from-file\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let t = Target::from_info(
        ConnInfo::parse("host=db user=bob dbname=app").unwrap(),
        Some(home.path()),
    )
    .unwrap();
    assert_eq!(t.config.get_password(), Some(&b"from-file"[..]));
    // A password given anywhere else wins.
    let i = ConnInfo::parse("host=db user=bob dbname=app")
        .unwrap()
        .with_env(&env(&[("PGPASSWORD", "from-env")]));
    let t = Target::from_info(i, Some(home.path())).unwrap();
    assert_eq!(t.config.get_password(), Some(&b"from-env"[..]));
    // No dbname: the user name, as in libpq; no line for it.
    let t = Target::from_info(
        ConnInfo::parse("host=db user=bob").unwrap(),
        Some(home.path()),
    )
    .unwrap();
    assert_eq!(t.config.get_dbname(), Some("bob"));
    assert_eq!(t.config.get_password(), None);
    // passfile= names another file.
    let other = home.path().join("other");
    std::fs::write(&other, "*:*:*:*:other-file\n").unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
    let i = ConnInfo::parse(&format!("host=db user=bob passfile={}", other.display())).unwrap();
    let t = Target::from_info(i, Some(home.path())).unwrap();
    assert_eq!(t.config.get_password(), Some(&b"other-file"[..]));
}

#[test]
fn sslmodes_and_their_certificates() {
    let home = tempfile::tempdir().unwrap();
    let build = |s: &str| tls::build(&ConnInfo::parse(s).unwrap(), Some(home.path()));
    assert_eq!(build("").unwrap().mode, SslMode::Prefer);
    assert_eq!(build("sslmode=require").unwrap().verify, Verify::Nothing);
    let e = format!("{:#}", build("sslmode=verify-full").err().unwrap());
    assert!(e.contains("sslrootcert"), "{e}");
    let e = format!(
        "{:#}",
        build("sslmode=require sslrootcert=system").err().unwrap()
    );
    assert!(e.contains("weak sslmode"), "{e}");
    let e = format!(
        "{:#}",
        build("sslmode=require sslrootcert=/nonexistent/ca.pem")
            .err()
            .unwrap()
    );
    assert!(e.contains("does not exist"), "{e}");
    assert!(build("sslmode=bogus").is_err());
    // A root certificate in ~/.postgresql/root.crt makes require check the
    // chain, as libpq does.
    let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()]).unwrap();
    std::fs::create_dir(home.path().join(".postgresql")).unwrap();
    std::fs::write(home.path().join(".postgresql/root.crt"), ca.cert.pem()).unwrap();
    assert_eq!(build("sslmode=require").unwrap().verify, Verify::Chain);
    assert_eq!(build("sslmode=verify-ca").unwrap().verify, Verify::Chain);
    assert_eq!(build("sslmode=verify-full").unwrap().verify, Verify::Full);
    assert!(build("sslmode=disable").unwrap().connector.is_none());
}
