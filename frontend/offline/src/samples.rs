//! The sample configurations one click away on the paste tab: a weak and a
//! hardened setup per software. They are the test fixtures themselves
//! (tests/fixtures/), so what the page shows is what the tests check (see
//! the tests below): each weak sample fails several rules, no hardened one
//! fails any.

use mailaudit_core::config::Software;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../../../tests/fixtures/", $path))
    };
}

const POSTFIX_WEAK: &str = concat!("# file: main.cf\n", fixture!("postfix/weak-main.cf"));
const POSTFIX_HARDENED: &str = concat!(
    "# file: main.cf\n",
    fixture!("postfix/hardened-main.cf"),
    "# file: master.cf\n",
    fixture!("postfix/master.cf"),
);
const EXIM_WEAK: &str = fixture!("exim/weak.conf");
const EXIM_HARDENED: &str = fixture!("exim/hardened.conf");
/// Debian 12's stock sendmail.mc: no STARTTLS, no size limit, VRFY/EXPN
/// answered, the version in the greeting.
const SENDMAIL_WEAK: &str = concat!(
    "# file: sendmail.mc\n",
    fixture!("sendmail/debian12-sendmail.mc")
);
const SENDMAIL_HARDENED: &str = concat!(
    "# file: sendmail.mc\n",
    fixture!("sendmail/hardened-sendmail.mc"),
    "# file: access\n",
    fixture!("sendmail/hardened-access"),
);
/// Exchange 2019's default receive connectors with a certificate about to
/// expire.
const EXCHANGE_WEAK: &str = concat!(
    fixture!("exchange/ex2019-receive-connectors.txt"),
    "\n",
    fixture!("exchange/ex2019-certificates.txt"),
    "\n",
    fixture!("exchange/ex2019-server.txt"),
);
const EXCHANGE_HARDENED: &str = concat!(
    fixture!("exchange/hardened-receive-connectors.txt"),
    "\n",
    fixture!("exchange/ex2019-adpermission.txt"),
    "\n",
    fixture!("exchange/hardened-certificates.txt"),
    "\n",
    fixture!("exchange/ex2019-server.txt"),
);
const FAIL2BAN_WEAK: &str = fixture!("fail2ban/weak.local");
const FAIL2BAN_HARDENED: &str = concat!(
    fixture!("fail2ban/hardened.local"),
    "\n",
    fixture!("fail2ban/mail.local"),
);

/// The sample of a software, `hardened` or weak.
pub fn sample(software: Software, hardened: bool) -> Option<&'static str> {
    Some(match (software, hardened) {
        (Software::Postfix, false) => POSTFIX_WEAK,
        (Software::Postfix, true) => POSTFIX_HARDENED,
        (Software::Exim, false) => EXIM_WEAK,
        (Software::Exim, true) => EXIM_HARDENED,
        (Software::Sendmail, false) => SENDMAIL_WEAK,
        (Software::Sendmail, true) => SENDMAIL_HARDENED,
        (Software::Exchange, false) => EXCHANGE_WEAK,
        (Software::Exchange, true) => EXCHANGE_HARDENED,
        (Software::Fail2ban, false) => FAIL2BAN_WEAK,
        (Software::Fail2ban, true) => FAIL2BAN_HARDENED,
        (Software::Logs, _) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::SAMPLES;
    use mailaudit_core::config::{analyze, ConfigOptions, Input};
    use mailaudit_core::report::{Report, Status};

    fn report(text: &str) -> Report {
        let opts = ConfigOptions {
            now: "2026-11-29T12:00:00Z".into(),
            ..Default::default()
        };
        analyze(&[Input::new("pasted", text)], &opts).expect("the sample is analysed")
    }

    fn ids(r: &Report, status: Status) -> Vec<&str> {
        r.findings
            .iter()
            .filter(|f| f.status == status)
            .map(|f| f.id.as_str())
            .collect()
    }

    #[test]
    fn every_sample_is_recognised_as_its_software() {
        for software in SAMPLES {
            for hardened in [false, true] {
                let r = report(sample(software, hardened).unwrap());
                let prefix = format!("{}.", software.name());
                assert!(
                    !r.findings.is_empty() && r.findings.iter().all(|f| f.id.starts_with(&prefix)),
                    "{software:?} hardened={hardened}: {:?}",
                    r.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn weak_samples_fail_several_rules() {
        for software in SAMPLES {
            let r = report(sample(software, false).unwrap());
            let fails = ids(&r, Status::Fail);
            assert!(fails.len() >= 3, "{software:?} weak fails only {fails:?}");
        }
    }

    #[test]
    fn hardened_samples_fail_nothing() {
        for software in SAMPLES {
            let r = report(sample(software, true).unwrap());
            assert_eq!(ids(&r, Status::Fail), Vec::<&str>::new(), "{software:?}");
            let warns = ids(&r, Status::Warn);
            assert!(warns.len() <= 1, "{software:?} hardened warns {warns:?}");
            assert!(ids(&r, Status::Pass).len() >= 3, "{software:?}");
        }
    }

    #[test]
    fn no_sample_for_logs() {
        assert_eq!(sample(Software::Logs, false), None);
    }
}
