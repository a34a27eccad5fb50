//! Production connections: a second PostgreSQL cluster of the test's own
//! (TLS only, SCRAM passwords, a CA and certificates made here), every
//! sslmode, libpq's environment and password file, client certificates;
//! secrets never printed; the target checked before the source is read;
//! server settings that must not cancel a load.
//!
//! The cluster is made once per test binary, on a free port in a temp dir,
//! and removed at exit (an `atexit` hook drops its guard: the harness
//! catches panics, so it also runs after failed tests).

use crate::common::{assert_exit, init_mapping, sqlite2pg, sqlite_fixture, stderr, stdout, TestDb};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

const PASSWORD: &str = "pw-Secr3t";
const BIN: &str = "/usr/lib/postgresql/15/bin";

/// The test cluster; stopped and deleted when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    /// The CA that signed the server's (and the client's) certificate.
    ca: PathBuf,
    /// A CA that signed nothing here.
    other_ca: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = as_postgres(&[
            &format!("{BIN}/pg_ctl"),
            "-D",
            data.to_str().unwrap(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
    }
}

static CLUSTER: OnceLock<Mutex<Option<Cluster>>> = OnceLock::new();
struct Info {
    port: u16,
    sock: PathBuf,
    ca: PathBuf,
    other_ca: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}
static INFO: OnceLock<Info> = OnceLock::new();

extern "C" fn remove_cluster() {
    if let Some(m) = CLUSTER.get() {
        if let Ok(mut g) = m.lock() {
            drop(g.take());
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Run a PostgreSQL program as the `postgres` user when we are root (the
/// server refuses to run as root), else as ourselves.
fn as_postgres(args: &[&str]) -> Output {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).args(args);
        c
    } else {
        let mut c = Command::new(args[0]);
        c.args(&args[1..]);
        c
    };
    cmd.output().expect("run a PostgreSQL program")
}

fn chown_postgres(p: &Path) {
    if is_root() {
        let st = Command::new("chown")
            .args(["-R", "postgres:postgres", p.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(st.success());
    }
}

fn write_private(p: &Path, text: &str) {
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn make_cluster() -> Cluster {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let dir = tempfile::Builder::new()
        .prefix("s2p-tls-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = dir.path();
    let port = free_port();

    // The CA, the server's certificate (localhost and 127.0.0.1), a client's.
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sqlite2pg test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .signed_by(&server_key, &ca, &ca_key)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params
        .distinguished_name
        .push(DnType::CommonName, "certuser");
    let client = client_params.signed_by(&client_key, &ca, &ca_key).unwrap();
    let other_key = KeyPair::generate().unwrap();
    let mut other_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    other_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    other_params
        .distinguished_name
        .push(DnType::CommonName, "some other CA");
    let other = other_params.self_signed(&other_key).unwrap();

    let certs = root.join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::write(certs.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(certs.join("other-ca.pem"), other.pem()).unwrap();
    std::fs::write(certs.join("server.crt"), server.pem()).unwrap();
    write_private(&certs.join("server.key"), &server_key.serialize_pem());
    let client_dir = root.join("client");
    std::fs::create_dir(&client_dir).unwrap();
    std::fs::write(client_dir.join("client.crt"), client.pem()).unwrap();
    write_private(&client_dir.join("client.key"), &client_key.serialize_pem());
    chown_postgres(&certs);
    std::fs::set_permissions(&certs, std::fs::Permissions::from_mode(0o755)).unwrap();

    let data = root.join("data");
    let sock = root.join("sock");
    std::fs::create_dir(&data).unwrap();
    std::fs::create_dir(&sock).unwrap();
    chown_postgres(&data);
    chown_postgres(&sock);
    let o = as_postgres(&[
        &format!("{BIN}/initdb"),
        "-D",
        data.to_str().unwrap(),
        "-U",
        "postgres",
        "--auth=trust",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C",
    ]);
    assert!(
        o.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let conf = format!(
        "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{sock}'\n\
         ssl = on\nssl_cert_file = '{c}/server.crt'\nssl_key_file = '{c}/server.key'\nssl_ca_file = '{c}/ca.pem'\n\
         password_encryption = 'scram-sha-256'\nfsync = off\nshared_buffers = '16MB'\nmax_connections = 60\n",
        sock = sock.display(),
        c = certs.display()
    );
    let mut pgconf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
    pgconf.push_str(&conf);
    std::fs::write(data.join("postgresql.conf"), pgconf).unwrap();
    // TCP: TLS only; passwords (SCRAM), or a client certificate for
    // certuser; plaintext refused.
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\n\
         hostssl all certuser 127.0.0.1/32 cert\n\
         hostssl all all 127.0.0.1/32 scram-sha-256\n\
         host all all 0.0.0.0/0 reject\n",
    )
    .unwrap();
    let log = root.join("server.log");
    std::fs::write(&log, "").unwrap();
    chown_postgres(&log);
    chown_postgres(&data);
    let o = as_postgres(&[
        &format!("{BIN}/pg_ctl"),
        "-D",
        data.to_str().unwrap(),
        "-l",
        log.to_str().unwrap(),
        "-w",
        "start",
    ]);
    let cluster = Cluster {
        port,
        ca: certs.join("ca.pem"),
        other_ca: certs.join("other-ca.pem"),
        client_cert: client_dir.join("client.crt"),
        client_key: client_dir.join("client.key"),
        dir,
    };
    assert!(
        o.status.success(),
        "pg_ctl start: {}{}",
        String::from_utf8_lossy(&o.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    cluster
}

/// The cluster, made on first use.
fn cluster() -> &'static Info {
    INFO.get_or_init(|| {
        let c = make_cluster();
        let info = Info {
            port: c.port,
            sock: c.dir.path().join("sock"),
            ca: c.ca.clone(),
            other_ca: c.other_ca.clone(),
            client_cert: c.client_cert.clone(),
            client_key: c.client_key.clone(),
        };
        CLUSTER.set(Mutex::new(Some(c))).ok().unwrap();
        // SAFETY: registers a plain function to run at exit.
        unsafe { libc::atexit(remove_cluster) };
        superuser(&format!(
            "CREATE ROLE app LOGIN CREATEDB PASSWORD '{PASSWORD}'; CREATE ROLE certuser LOGIN;"
        ));
        info
    })
}

/// SQL as the cluster's superuser, over its Unix socket.
fn superuser(sql: &str) {
    let i = INFO.get().map(|i| (i.sock.clone(), i.port));
    let (sock, port) = i.unwrap_or_else(|| {
        let m = CLUSTER.get().unwrap().lock().unwrap();
        let c = m.as_ref().unwrap();
        (c.dir.path().join("sock"), c.port)
    });
    let sql = sql.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (c, conn) = tokio_postgres::connect(
                &format!(
                    "host={} port={port} user=postgres dbname=postgres",
                    sock.display()
                ),
                tokio_postgres::NoTls,
            )
            .await
            .expect("connect to the TLS test cluster");
            tokio::spawn(conn);
            c.batch_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
    })
    .join()
    .unwrap();
}

/// A fresh database on the TLS cluster, owned by `app`.
fn tls_db(name: &str) -> String {
    tls_db_of(name, "app")
}

fn tls_db_of(name: &str, owner: &str) -> String {
    cluster();
    let db = format!("tls_{name}_{}", std::process::id());
    superuser(&format!("DROP DATABASE IF EXISTS {db}"));
    superuser(&format!("CREATE DATABASE {db} OWNER {owner}"));
    db
}

/// A small source and its mapping.
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
         INSERT INTO items SELECT i, 'item ' || i FROM n;",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    (dir, toml)
}

/// `sqlite2pg ARGS` with exactly the PG* variables given (the caller's
/// removed), HOME set to `home`.
fn run_with_env(args: &[&str], env: &[(&str, &str)], home: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sqlite2pg"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run sqlite2pg");
    eprintln!(
        "$ {env:?} sqlite2pg {}\n--- stdout\n{}--- stderr\n{}--- exit {:?}",
        args.join(" "),
        stdout(&out),
        stderr(&out),
        out.status.code()
    );
    out
}

fn run_target(toml: &Path, target: &str) -> Output {
    let home = tempfile::tempdir().unwrap();
    run_with_env(
        &[
            "run",
            toml.to_str().unwrap(),
            "--target",
            target,
            "--no-progress",
        ],
        &[],
        home.path(),
    )
}

fn url(db: &str, query: &str) -> String {
    format!(
        "postgres://app:{PASSWORD}@127.0.0.1:{}/{db}?{query}",
        cluster().port
    )
}

fn assert_loaded(o: &Output) {
    assert_exit(o, 0, &[]);
}

#[test]
fn require_over_tls_with_scram_loads() {
    let db = tls_db("require");
    let (_dir, toml) = fixture();
    assert_loaded(&run_target(&toml, &url(&db, "sslmode=require")));
}

#[test]
fn verify_full_with_sslrootcert_loads() {
    let c = cluster();
    let db = tls_db("verifyfull");
    let (_dir, toml) = fixture();
    let target = url(
        &db,
        &format!("sslmode=verify-full&sslrootcert={}", c.ca.display()),
    );
    assert_loaded(&run_target(&toml, &target));
    // By name too (the certificate lists localhost), as a key=value string.
    let db2 = tls_db("verifyfull_kv");
    let kv = format!(
        "host=localhost port={} user=app password='{PASSWORD}' dbname={db2} sslmode=verify-full sslrootcert={}",
        c.port,
        c.ca.display()
    );
    assert_loaded(&run_target(&toml, &kv));
}

#[test]
fn every_sslmode_has_libpqs_meaning() {
    let c = cluster();
    let (_dir, toml) = fixture();
    // The server refuses plaintext: disable fails, with the server's reason.
    let db = tls_db("mode_disable");
    let o = run_target(&toml, &url(&db, "sslmode=disable"));
    assert_exit(&o, 4, &["no encryption"]);
    // allow: plaintext refused, then TLS.
    for mode in ["allow", "prefer", "require"] {
        let db = tls_db(&format!("mode_{mode}"));
        assert_loaded(&run_target(&toml, &url(&db, &format!("sslmode={mode}"))));
    }
    for mode in ["verify-ca", "verify-full"] {
        let db = tls_db(&format!("mode_{}", mode.replace('-', "_")));
        let q = format!("sslmode={mode}&sslrootcert={}", c.ca.display());
        assert_loaded(&run_target(&toml, &url(&db, &q)));
        // Without a CA to check against, refused before connecting.
        let o = run_target(&toml, &url(&db, &format!("sslmode={mode}")));
        assert_exit(&o, 2, &["sslrootcert"]);
    }
}

#[test]
fn wrong_ca_is_refused_with_a_certificate_message() {
    let c = cluster();
    let db = tls_db("wrongca");
    let (_dir, toml) = fixture();
    for mode in ["verify-ca", "verify-full", "require"] {
        let q = format!("sslmode={mode}&sslrootcert={}", c.other_ca.display());
        let o = run_target(&toml, &url(&db, &q));
        let e = stderr(&o);
        assert_exit(&o, 4, &["certificate", "unknown issuer"]);
        assert!(!e.contains(PASSWORD));
    }
    // prefer with that CA in ~/.postgresql/root.crt: TLS refused, plaintext
    // refused by the server; both reasons are given.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".postgresql")).unwrap();
    std::fs::copy(&c.other_ca, home.path().join(".postgresql/root.crt")).unwrap();
    let o = run_with_env(
        &[
            "run",
            toml.to_str().unwrap(),
            "--target",
            &url(&db, ""),
            "--no-progress",
        ],
        &[],
        home.path(),
    );
    assert_exit(&o, 4, &["unknown issuer", "no encryption"]);
}

#[test]
fn hostname_mismatch_fails_verify_full_but_not_verify_ca() {
    let c = cluster();
    let (_dir, toml) = fixture();
    let db = tls_db("hostname");
    let kv = |mode: &str| {
        format!(
            "host=db.example.invalid hostaddr=127.0.0.1 port={} user=app password={PASSWORD} dbname={db} sslmode={mode} sslrootcert={}",
            c.port,
            c.ca.display()
        )
    };
    let o = run_target(&toml, &kv("verify-full"));
    assert_exit(&o, 4, &["not valid for host name db.example.invalid"]);
    assert_loaded(&run_target(&toml, &kv("verify-ca")));
}

#[test]
fn client_certificate_authenticates() {
    let c = cluster();
    let (_dir, toml) = fixture();
    let db = tls_db_of("clientcert", "certuser");
    let base = format!(
        "host=localhost port={} user=certuser dbname={db} sslmode=verify-full sslrootcert={}",
        c.port,
        c.ca.display()
    );
    let o = run_target(
        &toml,
        &format!(
            "{base} sslcert={} sslkey={}",
            c.client_cert.display(),
            c.client_key.display()
        ),
    );
    assert_loaded(&o);
    // Without it the server refuses (no password either).
    let o = run_target(&toml, &base);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn pg_environment_and_pgpass_alone_load() {
    let c = cluster();
    let (_dir, toml) = fixture();
    let db = tls_db("env");
    let home = tempfile::tempdir().unwrap();
    write_private(
        &home.path().join(".pgpass"),
        &format!("# test\n127.0.0.1:{}:{db}:app:{PASSWORD}\n", c.port),
    );
    let port = c.port.to_string();
    let ca = c.ca.display().to_string();
    let env = [
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "app"),
        ("PGDATABASE", db.as_str()),
        ("PGSSLMODE", "verify-full"),
        ("PGSSLROOTCERT", ca.as_str()),
    ];
    let args = ["run", toml.to_str().unwrap(), "--no-progress", "-vv"];
    let o = run_with_env(&args, &env, home.path());
    assert_loaded(&o);
    assert!(!stdout(&o).contains(PASSWORD) && !stderr(&o).contains(PASSWORD));
    assert!(
        stderr(&o).contains(&format!("127.0.0.1:{port}/{db}")),
        "the target is named: {}",
        stderr(&o)
    );

    // Precedence: PGPASSWORD over the password file (a wrong one fails,
    // class 4, without showing it)…
    let mut env2 = env.to_vec();
    env2.push(("PGPASSWORD", "not-the-password"));
    let o = run_with_env(&args, &env2, home.path());
    assert_exit(&o, 4, &["password authentication failed"]);
    assert!(!stderr(&o).contains("not-the-password"));
    // …and the target string over both.
    let db2 = tls_db("env_precedence");
    let o = run_with_env(
        &[
            "run",
            toml.to_str().unwrap(),
            "--no-progress",
            "--target",
            &format!("postgres://app:{PASSWORD}@127.0.0.1/{db2}"),
        ],
        &env2,
        home.path(),
    );
    assert_loaded(&o);
    // A password file others can read is ignored, as libpq does.
    std::fs::set_permissions(
        home.path().join(".pgpass"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    // Then no password: exit 4 (a rerun as it is fails the same), not 1.
    let o = run_with_env(&args, &env, home.path());
    assert_exit(
        &o,
        4,
        &["group or world access", "password missing", "mode 0600"],
    );
}

#[test]
fn secrets_never_printed() {
    let (_dir, toml) = fixture();
    let t = toml.to_str().unwrap();
    for (target, secret) in [
        ("host=127.0.0.1 password = hunter2 dbnmae=x", "hunter2"),
        ("password='my secret' dbnmae=x host=127.0.0.1", "my secret"),
        ("host=127.0.0.1 password=my secret dbname=x", "secret"),
        ("host=127.0.0.1 password='my secret", "my secret"),
        ("postgres://u:hunter2@127.0.0.1:notaport/db", "hunter2"),
        ("postgres://u:hunt%zzer2@127.0.0.1/db", "hunt"),
        ("postgres://u:hunter2@127.0.0.1/db?sslmode=bogus", "hunter2"),
    ] {
        for cmd in ["run", "status", "verify"] {
            let o = sqlite2pg(&[cmd, t, "--target", target, "-vv"]);
            assert_exit(&o, 2, &[]);
            let all = format!("{}{}", stdout(&o), stderr(&o));
            assert!(!all.contains(secret), "{cmd} {target}: {all}");
        }
    }
    // A mapping's target.url: the same.
    crate::common::edit_mapping(
        &toml,
        "[target]",
        "[target]\nurl = \"host=127.0.0.1 password = hunter2 dbnmae=x\"",
    );
    let o = sqlite2pg(&["run", t, "-vv"]);
    assert_exit(&o, 2, &[]);
    assert!(!format!("{}{}", stdout(&o), stderr(&o)).contains("hunter2"));

    // A refused password over TLS, and a good one at -vv.
    let db = tls_db("secrets");
    let (_dir2, toml2) = fixture();
    let wrong = format!(
        "postgres://app:Wr0ng%20pw@127.0.0.1:{}/{db}",
        cluster().port
    );
    let o = run_target(&toml2, &wrong);
    assert_exit(&o, 4, &[]);
    assert!(!stderr(&o).contains("Wr0ng"));
    let home = tempfile::tempdir().unwrap();
    let o = run_with_env(
        &[
            "run",
            toml2.to_str().unwrap(),
            "--target",
            &url(&db, "sslmode=require"),
            "--no-progress",
            "-vv",
        ],
        &[],
        home.path(),
    );
    assert_loaded(&o);
    assert!(!format!("{}{}", stdout(&o), stderr(&o)).contains(PASSWORD));
}

#[test]
fn wrong_database_is_reported_before_the_source_is_read() {
    let db = TestDb::new();
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO t SELECT i, hex(randomblob(20)) FROM n;",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    // A source that fails its integrity check.
    let mut bytes = std::fs::read(&src).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 2..len / 2 + 8192] {
        *b = 0x5a;
    }
    std::fs::write(&src, &bytes).unwrap();
    let mut u = url::Url::parse(&db.url).unwrap();
    u.set_path(&format!("/{}_missing", db.name));
    let o = sqlite2pg(&[
        "run",
        toml.to_str().unwrap(),
        "--target",
        u.as_str(),
        "--no-progress",
    ]);
    let e = stderr(&o);
    assert_exit(&o, 4, &["does not exist", "createdb"]);
    assert!(!e.contains("quick_check") && !e.contains("corrupt"), "{e}");
    // The right database gets the source's error.
    let o = sqlite2pg(&[
        "run",
        toml.to_str().unwrap(),
        "--target",
        &db.url,
        "--no-progress",
    ]);
    assert_exit(&o, 4, &[]);
    assert!(!stderr(&o).contains("does not exist"), "{}", stderr(&o));
}

#[test]
fn database_statement_timeout_does_not_cancel_a_load() {
    let db = TestDb::new();
    db.exec(&format!(
        "ALTER DATABASE \"{}\" SET statement_timeout = '1ms'; \
         ALTER DATABASE \"{}\" SET idle_in_transaction_session_timeout = '1ms'",
        db.name, db.name
    ));
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
         INSERT INTO t SELECT i, hex(randomblob(20)) FROM n;",
    );
    let toml = dir.path().join("p.toml");
    init_mapping(&src, &toml);
    let o = crate::common::run_pipeline(&toml, &db.url, &[]);
    assert_exit(&o, 0, &[]);
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &[]);
}
