//! The suite's own test PKI, made fresh on every run with rcgen: a CA (its
//! PEM goes to the CLI's `--ca-file`, which trusts it for the resolver and
//! the mail servers alike), the DoH server's certificate (IP SAN), the mail
//! servers' certificate (every row's MX name) and, for the long-chain
//! fault, the same leaf under 49 intermediates.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct Pki {
    pub ca_pem: String,
    /// (chain, key) of the DoH server.
    pub doh: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    /// (chain, key) of the healthy mail servers: leaf only.
    pub mail: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    /// (chain, key) of the long-chain fault: leaf + 49 intermediates.
    pub long_chain: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

fn leaf_params(names: &[String]) -> CertificateParams {
    let mut p = CertificateParams::new(names.to_vec()).expect("leaf names");
    p.distinguished_name.push(
        DnType::CommonName,
        names.first().map(String::as_str).unwrap_or("leaf"),
    );
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    p
}

fn key_der(k: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k.serialize_der()))
}

/// `doh_ip`: the DoH server's address; `mail_names`: every MX host name.
pub fn make(doh_ip: &str, mail_names: &[String]) -> Pki {
    let ca = CertifiedIssuer::self_signed(
        ca_params("mailaudit fault-injection CA"),
        KeyPair::generate().expect("key"),
    )
    .expect("CA");
    let doh_key = KeyPair::generate().expect("key");
    let doh_cert = leaf_params(&[doh_ip.to_string()])
        .signed_by(&doh_key, &ca)
        .expect("doh cert");
    let mail_key = KeyPair::generate().expect("key");
    let mail_cert = leaf_params(mail_names)
        .signed_by(&mail_key, &ca)
        .expect("mail cert");
    // CA -> int1 -> ... -> int49 -> leaf: 50 certificates served.
    let mut intermediates: Vec<CertificateDer<'static>> = Vec::new();
    let mut issuer = CertifiedIssuer::signed_by(
        ca_params("fault intermediate 1"),
        KeyPair::generate().expect("key"),
        &ca,
    )
    .expect("int");
    intermediates.push(issuer.der().clone());
    for i in 2..=49 {
        let next = CertifiedIssuer::signed_by(
            ca_params(&format!("fault intermediate {i}")),
            KeyPair::generate().expect("key"),
            &issuer,
        )
        .expect("int");
        intermediates.push(next.der().clone());
        issuer = next;
    }
    let long_key = KeyPair::generate().expect("key");
    let long_leaf = leaf_params(mail_names)
        .signed_by(&long_key, &issuer)
        .expect("long leaf");
    let mut long_chain = vec![long_leaf.der().clone()];
    long_chain.extend(intermediates.into_iter().rev());
    Pki {
        ca_pem: ca.pem(),
        doh: (vec![doh_cert.der().clone()], key_der(&doh_key)),
        mail: (vec![mail_cert.der().clone()], key_der(&mail_key)),
        long_chain: (long_chain, key_der(&long_key)),
    }
}
