//! The probe agent from the Worker. Workers cannot connect to port 25, so
//! when the deployment names an agent (`PROBE_AGENT_URL`, a var, and
//! `PROBE_AGENT_SECRET`, a secret at least 32 characters long, shared with
//! `mailaudit probe-agent --secret-file`), the live SMTP/TLS checks of an
//! audit are run by that agent: the engine sends it one signed request
//! (mailaudit_core::probe::agent) and takes its signed answer. Without
//! both, the live checks stay `unknown: not run from this deployment`.

use mailaudit_core::audit::AuditOptions;
use mailaudit_core::probe::agent::AgentClient;
use worker::Env;

/// Points `opts` at the probe agent when one is configured.
pub fn configure(env: &Env, opts: &mut AuditOptions) {
    let url = super::env_text(env, "PROBE_AGENT_URL");
    let secret = super::env_text(env, "PROBE_AGENT_SECRET");
    let (Some(url), Some(secret)) = (url, secret) else {
        return;
    };
    match AgentClient::new(&url, &secret, &nonce()) {
        Ok(client) => {
            opts.probe = true;
            opts.live.agent = Some(client);
        }
        Err(e) => {
            opts.no_probe_reason =
                format!("Not run: this deployment's probe agent is misconfigured ({e}).");
        }
    }
}

/// A request nonce: it only has to be unique within the agent's replay
/// window, not secret. 32 hex digits from the platform's random source
/// (Math.random, 3 × 52 bits) and the clock.
fn nonce() -> String {
    let draw = || (js_sys::Math::random() * 4_503_599_627_370_496.0) as u64;
    let ms = js_sys::Date::now() as u64;
    format!(
        "w{:011x}{:013x}{:013x}",
        ms & 0xfff_ffff_ffff,
        draw() ^ (draw() << 1),
        draw()
    )
}
