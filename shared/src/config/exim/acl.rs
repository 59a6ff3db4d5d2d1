//! ACLs evaluated as Exim evaluates them, for an abstract client: statements
//! in order, conditions of a statement in order (all must hold), the first
//! `accept`/`deny`/`defer`/`drop`/`discard` whose conditions hold ends the
//! ACL, `require` ends it with "deny" when a condition fails, `warn` never
//! ends it, `endpass` splits an `accept` into "try next statement" and
//! "deny" halves, and the end of an ACL is an implicit `deny` (spec ch. 44
//! "Access control lists", sections "ACL verbs" and "Format of an ACL").
//!
//! The client is the attacker of [`super::lists`]: it picks whatever it can
//! pick (sender, local part, a clean IP, TLS or not) to get accepted. Each
//! condition answers "can the attacker make it true / false" with
//! Yes/No/Unknown ([`Can`]); a condition we cannot evaluate (an expansion,
//! an unseen file, an unknown name, an `.include`) is Unknown both ways, so
//! the ACL's answer becomes Unknown rather than a pass.

use super::lists::{self, Can, Subject, Tri};
use super::parse::{Acl, AclItem, Cond, Config, Source, Statement, Verb};

/// Modifiers: they never make a statement fail.
pub const MODIFIERS: &[&str] = &[
    "add_header",
    "continue",
    "control",
    "debug",
    "delay",
    "endpass",
    "log_message",
    "log_reject_target",
    "logwrite",
    "message",
    "queue",
    "remove_header",
    "set",
    "udpsend",
];

/// Conditions the attacker can satisfy or avoid at will (content, its own
/// addresses, a clean IP, staying under a rate).
const CHOICE: &[&str] = &[
    "dnslists",
    "ratelimit",
    "spf",
    "spf_guess",
    "dkim_signers",
    "dkim_status",
    "dmarc_status",
    "malware",
    "spam",
    "regex",
    "mime_regex",
    "demime",
    "decode",
    "bmi_optin",
    "dcc",
    "seen",
    "atrn_domains",
];

/// Variables of `condition = ${…}` whose value the sender controls and that
/// cannot encode a relay decision (recipient counts, sizes, line lengths).
const CHOICE_VARS: &[&str] = &[
    "rcpt_count",
    "recipients_count",
    "message_size",
    "max_received_linelength",
    "message_body_size",
    "body_linecount",
    "body_zerocount",
    "message_linecount",
    "spam_score",
    "spam_score_int",
];

/// What the evaluation needs besides the configuration.
pub struct Env<'a> {
    pub cfg: &'a Config,
    /// Whether STARTTLS is offered (for `encrypted =`).
    pub tls_offered: bool,
    /// Whether routers route a foreign domain (for `verify = recipient`).
    pub remote_routing: Tri,
}

/// The result of one ACL for the attacker.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Can the ACL return accept (or discard, for `discard`)?
    pub accept: Tri,
    /// Can it return deny/defer/drop?
    pub reject: Tri,
    /// The first statement that accepts for sure (when `accept` is Yes).
    pub accepted_by: Option<Source>,
    /// Its lines: the verb and each condition.
    pub accepted_lines: Vec<Source>,
    /// Statements that may accept, or may stop the attacker, but could not
    /// be evaluated.
    pub uncertain: Vec<Source>,
    /// The statement after which no attacker gets further.
    pub stopped_by: Option<Source>,
    /// Its lines: the verb and each condition.
    pub stopped_lines: Vec<Source>,
}

/// A statement's lines (verb line, then condition lines on other lines).
fn statement_lines(st: &Statement) -> Vec<Source> {
    let mut out = vec![st.source.clone()];
    for c in &st.conds {
        if !out
            .iter()
            .any(|s| s.line == c.source.line && s.file == c.source.file)
        {
            out.push(c.source.clone());
        }
    }
    out
}

/// Evaluates a named ACL; None when it does not exist.
pub fn eval_named(env: &Env, name: &str) -> Option<Outcome> {
    env.cfg.acl(name).map(|a| eval(env, a, 0))
}

pub fn eval(env: &Env, acl: &Acl, depth: u8) -> Outcome {
    let mut acc = Tri::No;
    let mut rej = Tri::No;
    let mut reach = Tri::Yes;
    let mut out = Outcome {
        accept: Tri::No,
        reject: Tri::No,
        accepted_by: None,
        accepted_lines: Vec::new(),
        uncertain: Vec::new(),
        stopped_by: None,
        stopped_lines: Vec::new(),
    };
    for item in &acl.items {
        if reach == Tri::No {
            break;
        }
        let st = match item {
            AclItem::Statement(s) => s,
            AclItem::Include(inc) => {
                acc = acc.or(reach.and(Tri::Unknown));
                rej = rej.or(reach.and(Tri::Unknown));
                reach = reach.and(Tri::Unknown);
                out.uncertain.push(inc.source.clone());
                continue;
            }
        };
        let (before, after) = split_endpass(st);
        let (mb, ab) = conj(env, before, depth);
        let (ma, aa) = conj(env, after, depth);
        let all_match = mb.and(ma);
        let all_avoid = ab.or(aa);
        let prev = reach;
        match st.verb {
            Verb::Accept | Verb::Discard => {
                let a = reach.and(all_match);
                if a == Tri::Yes && out.accepted_by.is_none() && acc != Tri::Yes {
                    out.accepted_by = Some(st.source.clone());
                    out.accepted_lines = statement_lines(st);
                }
                if a == Tri::Unknown {
                    out.uncertain.push(st.source.clone());
                }
                if st.verb == Verb::Accept {
                    acc = acc.or(a);
                } else {
                    rej = rej.or(a);
                }
                if has_endpass(st) {
                    rej = rej.or(reach.and(mb).and(aa));
                    reach = reach.and(ab);
                } else {
                    reach = reach.and(all_avoid);
                }
            }
            Verb::Deny | Verb::Defer | Verb::Drop => {
                rej = rej.or(reach.and(all_match));
                if all_avoid == Tri::Unknown {
                    out.uncertain.push(st.source.clone());
                }
                reach = reach.and(all_avoid);
            }
            Verb::Require => {
                rej = rej.or(reach.and(all_avoid));
                if all_match == Tri::Unknown {
                    out.uncertain.push(st.source.clone());
                }
                reach = reach.and(all_match);
            }
            Verb::Warn => {}
        }
        if prev != Tri::No && reach == Tri::No && out.stopped_by.is_none() {
            out.stopped_by = Some(st.source.clone());
            out.stopped_lines = statement_lines(st);
        }
    }
    // The implicit deny at the end.
    rej = rej.or(reach);
    out.accept = acc;
    out.reject = rej;
    out
}

fn has_endpass(st: &Statement) -> bool {
    st.conds.iter().any(|c| c.name == "endpass")
}

fn split_endpass(st: &Statement) -> (&[Cond], &[Cond]) {
    match st.conds.iter().position(|c| c.name == "endpass") {
        Some(i) => (&st.conds[..i], &st.conds[i + 1..]),
        None => (&st.conds[..], &[]),
    }
}

/// All conditions true: (can all be true, can one be false).
fn conj(env: &Env, conds: &[Cond], depth: u8) -> (Tri, Tri) {
    let mut t = Tri::Yes;
    let mut f = Tri::No;
    for c in conds {
        let can = cond(env, c, depth);
        t = t.and(can.t);
        f = f.or(can.f);
    }
    (t, f)
}

/// One condition or modifier, negation applied.
pub fn cond(env: &Env, c: &Cond, depth: u8) -> Can {
    if MODIFIERS.contains(&c.name.as_str()) {
        return Can::TRUE;
    }
    let can = positive(env, c, depth);
    if c.negated {
        can.negate()
    } else {
        can
    }
}

fn positive(env: &Env, c: &Cond, depth: u8) -> Can {
    let v = c.value.as_str();
    match c.name.as_str() {
        "acl" => {
            let name = v.split_whitespace().next().unwrap_or("");
            if name.contains('$') || depth >= 8 {
                return Can::UNKNOWN;
            }
            match env.cfg.acl(name) {
                Some(a) => {
                    let o = eval(env, a, depth + 1);
                    Can {
                        t: o.accept,
                        f: o.reject,
                    }
                }
                None => Can::UNKNOWN,
            }
        }
        // The attacker is not authenticated.
        "authenticated" => Can::FALSE,
        "domains" => lists::eval(env.cfg, v, Subject::RecipientDomain, 0),
        "hosts" => lists::eval(env.cfg, v, Subject::Host, 0),
        "local_parts" => lists::eval(env.cfg, v, Subject::LocalPart, 0),
        "senders" => lists::eval(env.cfg, v, Subject::Sender, 0),
        "sender_domains" => lists::eval(env.cfg, v, Subject::SenderDomain, 0),
        "recipients" => lists::eval(env.cfg, v, Subject::Recipient, 0),
        "encrypted" => {
            if env.tls_offered {
                Can::EITHER
            } else {
                Can::FALSE
            }
        }
        "verify" => {
            let what = v.split('/').next().unwrap_or("").trim();
            match what {
                "recipient" => match env.remote_routing {
                    Tri::Yes => Can::EITHER,
                    Tri::No => Can::FALSE,
                    Tri::Unknown => Can::UNKNOWN,
                },
                "sender"
                | "helo"
                | "reverse_host_lookup"
                | "header_syntax"
                | "header_sender"
                | "not_blind"
                | "csa"
                | "header_names_ascii"
                | "arc" => Can::EITHER,
                "certificate" => Can::MAYBE,
                _ => Can::UNKNOWN,
            }
        }
        "condition" => condition(v),
        n if CHOICE.contains(&n) => Can::EITHER,
        _ => Can::UNKNOWN,
    }
}

/// `condition = …`: literal truth values, or an expansion.
fn condition(v: &str) -> Can {
    let t = v.trim();
    match t.to_ascii_lowercase().as_str() {
        "yes" | "true" => return Can::TRUE,
        "" | "no" | "false" | "0" => return Can::FALSE,
        _ => {}
    }
    if t.parse::<i64>().is_ok() {
        return Can::TRUE;
    }
    if t.contains("${") {
        // Only counts and sizes the sender controls: the attacker decides.
        let mut vars = t.split('$').skip(1).map(|r| {
            r.trim_start_matches('{')
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")
        });
        let only_choice = {
            let mut any = false;
            let ok = vars.all(|name| {
                if name.is_empty() || name == "if" || name == "eval" {
                    return true;
                }
                any = true;
                CHOICE_VARS.contains(&name)
            });
            ok && any
        };
        if only_choice && !t.contains("${lookup") && !t.contains("exists") {
            return Can::EITHER;
        }
    }
    Can::UNKNOWN
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Input;

    fn run(acls: &str, extra: &str) -> Outcome {
        let cfg = Config::parse(&[Input::new("x", format!("{extra}begin acl\n{acls}"))]);
        let env = Env {
            cfg: &cfg,
            tls_offered: true,
            remote_routing: Tri::Yes,
        };
        eval_named(&env, "rcpt").expect("acl")
    }

    #[test]
    fn classic_rcpt_acl_denies_relay() {
        let o = run(
            "rcpt:\n  accept hosts = :\n  accept hosts = +relay_from_hosts\n  accept authenticated = *\n  \
             require domains = +local_domains : +relay_to_domains\n  require verify = recipient\n  accept\n",
            "",
        );
        assert_eq!(o.accept, Tri::No);
        assert!(o.stopped_by.unwrap().text.contains("require domains"));
    }

    #[test]
    fn missing_domain_check_accepts() {
        let o = run(
            "rcpt:\n  accept authenticated = *\n  require verify = recipient\n  accept\n",
            "",
        );
        assert_eq!(o.accept, Tri::Yes);
        assert!(o.accepted_by.unwrap().text.contains("accept"));
    }

    #[test]
    fn unknown_conditions_never_pass() {
        let o = run(
            "rcpt:\n  deny condition = ${if eq{$domain}{x}}\n  accept\n",
            "",
        );
        assert_eq!(o.accept, Tri::Unknown);
        let o = run("rcpt:\n  .include /etc/exim/more\n  deny\n", "");
        assert_eq!(o.accept, Tri::Unknown);
    }

    #[test]
    fn endpass_and_negation() {
        let o = run(
            "rcpt:\n  accept domains = !+local_domains\n         endpass\n         verify = recipient\n",
            "",
        );
        assert_eq!(o.accept, Tri::Yes);
        let o = run("rcpt:\n  deny !domains = +local_domains\n  accept\n", "");
        assert_eq!(o.accept, Tri::No);
    }

    #[test]
    fn nested_acl_and_counts() {
        let o = run(
            "rcpt:\n  deny condition = ${if >{$rcpt_count}{10}}\n  accept acl = inner\n  deny\ninner:\n  accept hosts = *\n",
            "",
        );
        assert_eq!(o.accept, Tri::Yes);
    }
}
