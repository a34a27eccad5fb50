//! TLS with libpq's meanings of `sslmode`, over rustls (see the README for
//! why rustls). What each mode verifies:
//!
//! | sslmode | encrypts | verifies |
//! |---|---|---|
//! | `disable` | never | — |
//! | `allow` | if the server insists (plaintext tried first) | as `prefer` |
//! | `prefer` (default) | if the server can (TLS tried first) | the chain, if a root certificate file exists |
//! | `require` | always | the chain, if a root certificate file exists (libpq: then it acts as `verify-ca`) |
//! | `verify-ca` | always | the chain up to `sslrootcert` |
//! | `verify-full` | always | the chain and the host name |
//!
//! `sslrootcert=system` uses the platform's trust store and implies
//! `verify-full` (a weaker mode with it is refused, as in libpq 16).

use crate::pg::conninfo::ConnInfo;
use anyhow::Result;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(s: &str) -> Result<SslMode> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(crate::error::usage(format!(
                    "invalid sslmode \"{other}\": use disable, allow, prefer, require, verify-ca or verify-full"
                )))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// What a TLS session checks of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Nothing (but the handshake's signatures): encryption only.
    Nothing,
    /// The chain up to a trusted root, not the host name.
    Chain,
    /// The chain and the host name.
    Full,
}

/// The TLS side of a target.
#[derive(Clone)]
pub struct Tls {
    pub mode: SslMode,
    pub verify: Verify,
    /// Where the trusted roots come from, for messages.
    pub roots: Option<String>,
    /// None for `disable`.
    pub connector: Option<MakeRustlsConnect>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The TLS settings of `info` (after the environment was applied); `home`
/// is where `~/.postgresql/` is looked for.
pub fn build(info: &ConnInfo, home: Option<&Path>) -> Result<Tls> {
    let root_opt = info.get("sslrootcert").filter(|s| !s.is_empty());
    let system = root_opt == Some("system");
    let mode = match info.get("sslmode").filter(|s| !s.is_empty()) {
        Some(m) => SslMode::parse(m)?,
        None if info.get("requiressl") == Some("1") => SslMode::Require,
        None if system => SslMode::VerifyFull,
        None => SslMode::Prefer,
    };
    if system && mode != SslMode::VerifyFull {
        return Err(crate::error::usage(format!(
            "weak sslmode \"{}\" may not be used with sslrootcert=system (use \"verify-full\")",
            mode.name()
        )));
    }
    if mode == SslMode::Disable {
        return Ok(Tls {
            mode,
            verify: Verify::Nothing,
            roots: None,
            connector: None,
        });
    }
    let dot = home.map(|h| h.join(".postgresql"));
    // The trusted roots: a file named, the system store, or libpq's default
    // file if it exists.
    let (roots, roots_shown) = if system {
        let found = rustls_native_certs::load_native_certs();
        let mut store = RootCertStore::empty();
        let (added, _) = store.add_parsable_certificates(found.certs);
        if added == 0 {
            return Err(crate::error::blocked(
                "sslrootcert=system: no certificate found in the system's trust store",
            ));
        }
        (Some(store), Some("the system's trust store".to_string()))
    } else {
        let (path, named) = match root_opt {
            Some(p) => (Some(PathBuf::from(p)), true),
            None => (dot.as_ref().map(|d| d.join("root.crt")), false),
        };
        match path {
            Some(p) if p.exists() => (Some(load_roots(&p)?), Some(p.display().to_string())),
            Some(p) if named => {
                return Err(crate::error::blocked(format!(
                    "root certificate file {} (sslrootcert) does not exist",
                    p.display()
                )))
            }
            _ => (None, None),
        }
    };
    let verify = match (mode, &roots) {
        (SslMode::VerifyFull, Some(_)) => Verify::Full,
        (SslMode::VerifyCa, Some(_)) => Verify::Chain,
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => {
            return Err(crate::error::usage(format!(
                "sslmode={} needs the CA that signed the server's certificate: set sslrootcert=FILE (or PGSSLROOTCERT), \
                 put it in ~/.postgresql/root.crt, or use sslrootcert=system for a publicly signed server",
                mode.name()
            )))
        }
        // libpq: a root certificate file makes the weaker modes check the
        // chain too.
        (_, Some(_)) => Verify::Chain,
        (_, None) => Verify::Nothing,
    };
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match (verify, roots) {
        (Verify::Nothing, _) | (_, None) => Arc::new(NoVerify(provider.clone())),
        (v, Some(store)) => {
            let inner =
                WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                    .build()
                    .map_err(|e| crate::error::blocked(format!("root certificates: {e}")))?;
            if v == Verify::Full {
                inner
            } else {
                Arc::new(ChainOnly(inner))
            }
        }
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS setup: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match client_cert(info, dot.as_deref())? {
        Some((certs, key)) => builder.with_client_auth_cert(certs, key).map_err(|e| {
            crate::error::blocked(format!("client certificate (sslcert/sslkey): {e}"))
        })?,
        None => builder.with_no_client_auth(),
    };
    config.enable_sni = info.get("sslsni") != Some("0");
    Ok(Tls {
        mode,
        verify,
        roots: roots_shown,
        connector: Some(MakeRustlsConnect::new(config)),
    })
}

fn load_roots(path: &Path) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            crate::error::blocked(format!(
                "cannot read root certificates from {}: {e}",
                path.display()
            ))
        })?;
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(crate::error::blocked(format!(
            "no certificate found in root certificate file {}",
            path.display()
        )));
    }
    Ok(store)
}

type ClientCert = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// `sslcert` and `sslkey` (or libpq's default files, if present). Keys may
/// be PKCS#1, PKCS#8 or SEC1 PEM.
fn client_cert(info: &ConnInfo, dot: Option<&Path>) -> Result<Option<ClientCert>> {
    let named = info.get("sslcert").filter(|s| !s.is_empty());
    let cert_path = match named {
        Some(p) => PathBuf::from(p),
        None => match dot.map(|d| d.join("postgresql.crt")) {
            Some(p) if p.exists() => p,
            _ => return Ok(None),
        },
    };
    if !cert_path.exists() {
        return Err(crate::error::blocked(format!(
            "client certificate file {} (sslcert) does not exist",
            cert_path.display()
        )));
    }
    let key_path = match info.get("sslkey").filter(|s| !s.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => match dot {
            Some(d) => d.join("postgresql.key"),
            None => cert_path.with_extension("key"),
        },
    };
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            crate::error::blocked(format!(
                "cannot read client certificate {}: {e}",
                cert_path.display()
            ))
        })?;
    let meta = std::fs::metadata(&key_path).map_err(|e| {
        crate::error::blocked(format!(
            "client key file {} (sslkey): {e}",
            key_path.display()
        ))
    })?;
    // libpq's rule: the key readable by its owner only (or, owned by root,
    // by its group too).
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 && !(meta.uid() == 0 && mode & 0o037 == 0) {
        return Err(crate::error::blocked(format!(
            "private key file {} has group or world access; permissions should be u=rw (0600) or less",
            key_path.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| {
        crate::error::blocked(format!(
            "cannot read private key {} (PKCS#1, PKCS#8 or SEC1 PEM): {e}",
            key_path.display()
        ))
    })?;
    Ok(Some((certs, key)))
}

/// `require` without a root certificate: encryption, no authentication of
/// the server (the handshake's signatures are still checked).
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl NoVerify {
    fn algs(&self) -> &WebPkiSupportedAlgorithms {
        &self.0.signature_verification_algorithms
    }
}

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, self.algs())
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, self.algs())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs().supported_schemes()
    }
}

/// `verify-ca`: the chain, whatever name the certificate is for.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            // webpki checks the name after the chain: this error means the
            // chain was good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// If `e` (or what caused it) is a refused server certificate: which check
/// failed, in words.
pub fn certificate_problem(
    e: &(dyn std::error::Error + 'static),
    host: &str,
    tls: &Tls,
) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        let rustls_err = c.downcast_ref::<rustls::Error>().or_else(|| {
            c.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(ce)) = rustls_err {
            let roots = tls.roots.as_deref().unwrap_or("no root certificate");
            return Some(match ce {
                CertificateError::UnknownIssuer => format!(
                    "the server's certificate is not signed by a CA in {roots} (unknown issuer): \
                     set sslrootcert to the CA file your provider gives"
                ),
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => format!(
                    "the server's certificate is not valid for host name {host} (name mismatch; sslmode=verify-full \
                     checks it): connect by a name the certificate lists, or use sslmode=verify-ca"
                ),
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "the server's certificate has expired".to_string()
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "the server's certificate is not valid yet (check the clocks)".to_string()
                }
                CertificateError::Revoked => "the server's certificate is revoked".to_string(),
                other => format!("the server's certificate was refused: {other:?}"),
            });
        }
        cur = c.source();
    }
    None
}
