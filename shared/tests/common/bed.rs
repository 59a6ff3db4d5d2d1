//! What the live tests against the test bed (tests/testbed) share: a
//! blocking native network for the probes, the bed's `bed.env`, and the
//! skip rule (no `BED_ENV`, or the bed's addresses not routed through its
//! veth, so traffic could leave the machine: skip loudly; `BED_REQUIRED=1`
//! turns the skip into a failure, for CI).

use mailaudit_core::net::{Conn, HttpRequest, HttpResponse, NetError, Network};
use mailaudit_core::probe::MxProbe;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Read timeout of the blocking test network (the host's job in the CLI).
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A blocking native network: enough for sequential probes in a test.
pub struct StdNet;

/// The stream and when it was connected (for `elapsed_ms`).
pub struct StdConn(TcpStream, Instant);

fn net_err(e: std::io::Error, ms: u32) -> NetError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => NetError::Timeout(ms),
        ErrorKind::ConnectionRefused => NetError::Connect(e.to_string()),
        _ => NetError::Other(e.to_string()),
    }
}

impl Network for StdNet {
    type Conn = StdConn;

    async fn http(&self, _: HttpRequest) -> Result<HttpResponse, NetError> {
        Err(NetError::Other("no HTTP in this test".into()))
    }

    async fn tcp_connect(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<StdConn, NetError> {
        let ip: IpAddr = host
            .parse()
            .map_err(|_| NetError::Connect(format!("{host} is not an IP address")))?;
        let s = TcpStream::connect_timeout(
            &SocketAddr::new(ip, port),
            Duration::from_millis(timeout_ms.into()),
        )
        .map_err(|e| net_err(e, timeout_ms))?;
        s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
        Ok(StdConn(s, Instant::now()))
    }
}

impl Conn for StdConn {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        self.0
            .read(buf)
            .map_err(|e| net_err(e, READ_TIMEOUT.as_millis() as u32))
    }
    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
        self.0
            .write_all(data)
            .map_err(|e| net_err(e, READ_TIMEOUT.as_millis() as u32))
    }
    async fn close(&mut self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }
    fn elapsed_ms(&self) -> Option<u64> {
        u64::try_from(self.1.elapsed().as_millis()).ok()
    }
}

pub fn skip(why: &str) {
    let msg = format!(
        "\n!!!! SKIPPING the live SMTP bed test: {why}\n\
         !!!! Set BED_ENV=<repo>/tests/testbed/run/bed.env with the bed up \
         (tests/testbed/bin/bed-up.sh).\n"
    );
    if std::env::var_os("BED_REQUIRED").is_some_and(|v| v == "1") {
        panic!("{msg}");
    }
    eprintln!("{msg}");
}

pub fn read_env(path: &str) -> Option<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
            .collect(),
    )
}

/// True when `ip` is routed through the bed's veth (so nothing leaves the
/// machine).
pub fn routed_via_bed(ip: &str, iface: &str) -> Result<(), String> {
    let out = std::process::Command::new("ip")
        .args(["route", "get", ip])
        .output()
        .map_err(|e| format!("cannot run `ip route get {ip}`: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains(&format!("dev {iface} ")) || text.trim_end().ends_with(&format!("dev {iface}"))
    {
        Ok(())
    } else {
        Err(format!(
            "`ip route get {ip}` does not say `dev {iface}` ({}): the bed is not up here",
            text.trim()
        ))
    }
}

/// The bed's settings when it is up and every address named by `keys`
/// (e.g. `BED_MX_HARD`) is routed through its veth; otherwise skips (or
/// panics under `BED_REQUIRED=1`) and returns None.
pub fn bed(keys: &[&str]) -> Option<HashMap<String, String>> {
    let Ok(path) = std::env::var("BED_ENV") else {
        skip("BED_ENV is not set");
        return None;
    };
    let Some(env) = read_env(&path) else {
        skip(&format!("{path} cannot be read (is the bed up?)"));
        return None;
    };
    let iface = env
        .get("BED_HOST_IFACE")
        .cloned()
        .unwrap_or_else(|| "mb-host".into());
    for key in keys {
        let ip = env.get(*key).cloned().unwrap_or_default();
        if let Err(why) = routed_via_bed(&ip, &iface) {
            skip(&format!("{key}: {why}"));
            return None;
        }
    }
    Some(env)
}

/// The ordinary probe (no consent) never sends DATA or BDAT, nor a bare LF
/// other than the NOOP fingerprint: checked on the exact bytes written.
pub fn assert_no_data(p: &MxProbe) {
    for (label, t) in &p.transcripts {
        for line in t.client_lines() {
            let up = line.to_ascii_uppercase();
            assert!(
                !up.starts_with("DATA") && !up.starts_with("BDAT"),
                "{label}: sent {line}"
            );
        }
        let bytes = t.sent_bytes();
        for l in bytes.split(|&b| b == b'\n') {
            let up = String::from_utf8_lossy(l).to_ascii_uppercase();
            let cmd = up.trim_end_matches('\r');
            assert!(
                !cmd.starts_with("DATA") && !cmd.starts_with("BDAT"),
                "{label}: {cmd}"
            );
        }
        let bare = bytes
            .windows(2)
            .filter(|w| w[1] == b'\n' && w[0] != b'\r')
            .count()
            + usize::from(bytes.first() == Some(&b'\n'));
        let expected = usize::from(*label == "bare-lf");
        assert_eq!(bare, expected, "{label}: bare LFs sent");
    }
}
