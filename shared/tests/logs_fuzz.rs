//! The mail-log fuzz target's body (`common/maillog_harness.rs`) over
//! pseudo-random inputs in every `cargo test`: token soup of log syntax,
//! mutated fixtures, random bytes, and hostile shapes (a 4 MB line, lines
//! split at every byte, many addresses against small caps). Deterministic
//! seeds: a failure reproduces.

mod common;
#[path = "common/maillog_harness.rs"]
mod harness;

use common::Rng;

const TOKENS: &[&str] = &[
    "Nov 29 07:00:01 mx ",
    "Dec 31 23:59:59 mx ",
    "Jan  1 00:00:01 mx ",
    "2026-11-29T07:00:01.123456+01:00 mx ",
    "2026-11-29 07:00:01 ",
    "2026-11-29T07:00:01.123Z,",
    "postfix/smtpd[1]: ",
    "postfix/submission/smtpd[2]: ",
    "postfix/qmgr[3]: ",
    "postfix/smtp[4]: ",
    "sm-mta[5]: ",
    "exim[6]: ",
    "warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: x",
    ", sasl_username=",
    "admin",
    "NOQUEUE: reject: RCPT from unknown[198.51.100.4]: 454 4.7.1 <x>: Relay access denied;",
    "SSL_accept error from unknown[203.0.113.9]: -1",
    "SSL_connect error to mx[198.51.100.7]:25: -1",
    "4N1xYz0AbCz9: ",
    "client=x[192.0.2.1], sasl_method=PLAIN, sasl_username=alice",
    "from=<a@b>, size=1, nrcpt=",
    "99",
    "4294967296",
    " (queue active)",
    "removed",
    "to=<b@c>, relay=mx[198.51.100.7]:25, status=deferred (",
    "status=bounced (blocked using zen.spamhaus.org)",
    "1rABCd-000123-AB ",
    "<= a@b H=x [192.0.2.1] A=plain:alice for x y z",
    "=> ",
    "== ",
    "** ",
    "Completed",
    "dovecot_login authenticator failed for (x) [203.0.113.5]:1: 535 Incorrect authentication data (set_id=u)",
    "rejected RCPT <x>: relay not permitted",
    "TLS error on connection from (x) [203.0.113.5]:1 (SSL_accept): e",
    "AUTH failure (LOGIN): x, user=u, relay=[203.0.113.5]",
    "AUTH=server, relay=x [192.0.2.1], authid=alice, mech=PLAIN",
    "ruleset=check_rcpt, arg1=<x>, relay=[198.51.100.4], reject=550 5.7.1 <x>... Relaying denied",
    "STARTTLS=server, error: accept failed=-1, relay=[203.0.113.5]",
    "#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context",
    "#Fields: date-time,event-id,source,sender-address,recipient-count,recipient-status,server-hostname",
    "#Log-type: SMTP Send Protocol Log",
    ",>,535 5.7.3 Authentication unsuccessful,",
    ",STOREDRIVER,RECEIVE,",
    "\"",
    "\"\"",
    ",",
    "[",
    "]",
    ":",
    " ",
    "\n",
    "\r\n",
    "\u{0}",
    "é",
    "\u{ff}",
];

fn token_soup(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(200) {
        out.extend_from_slice(TOKENS[rng.below(TOKENS.len())].as_bytes());
        if rng.below(12) == 0 {
            out.push(0xff);
        }
    }
    out
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/logs")
            .join(name),
    )
    .expect("fixture")
}

#[test]
fn maillog_harness_over_pseudo_random_inputs() {
    let seeds: Vec<Vec<u8>> = [
        "exim-mainlog",
        "sendmail-maillog",
        "exchange-smtpreceive.log",
        "exchange-msgtrk.log",
        "postfix-rollover.log",
    ]
    .iter()
    .map(|n| fixture(n))
    .chain(std::iter::once(
        fixture("postfix-attack.log")[..20_000].to_vec(),
    ))
    .collect();
    let mut rng = Rng(0x10_65_10_65);
    for i in 0..900 {
        let input = match i % 3 {
            0 => token_soup(&mut rng),
            1 => {
                let seed = &seeds[rng.below(seeds.len())];
                rng.mutate(seed)
            }
            _ => (0..rng.below(800)).map(|_| rng.next() as u8).collect(),
        };
        harness::run(&input);
    }
}

#[test]
fn maillog_harness_on_the_bounds() {
    // A 4 MB line, then lines from 500 addresses against caps of 64.
    let mut data = b"Nov 29 07:00:01 mx postfix/smtpd[1]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: ".to_vec();
    data.extend(std::iter::repeat_n(b'x', 4 << 20));
    data.push(b'\n');
    for i in 0..500 {
        data.extend_from_slice(
            format!(
                "Nov 29 07:{:02}:{:02} mx postfix/smtpd[1]: warning: unknown[198.51.{}.{}]: SASL LOGIN authentication failed: x, sasl_username=u{i}\n",
                i / 60 % 60, i % 60, i / 250, i % 250
            )
            .as_bytes(),
        );
    }
    harness::run(&data);
    // Every byte its own chunk.
    let small = fixture("exim-mainlog");
    let spaced: Vec<u8> = small.iter().take(3000).flat_map(|&b| [b, 0xff]).collect();
    harness::run(&spaced);
}
