//! Postfix's built-in defaults, by release, for every parameter a rule
//! reads. Values are written as Postfix writes them (`postconf -d`),
//! including its compatibility-level expressions, and are expanded like any
//! other value, so `compatibility_level` in the input takes effect.

use std::fmt;

/// A Postfix release, as `mail_version` or `--assume-version` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    /// None when only the series was given (`3.10`): the latest patch
    /// release of that series is assumed.
    pub patch: Option<u32>,
    pub text: String,
}

impl Version {
    /// `3.7.11`, `3.10`, `3.9.1-RC1`, `3.8-20230101`; None if not a version.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let mut it = s[..end].split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = match it.next() {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        Some(Version {
            major,
            minor,
            patch,
            text: s.to_string(),
        })
    }

    /// Whether this release is `major.minor.patch` or later; with no patch
    /// given, the latest patch release of the series is assumed.
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch.unwrap_or(u32::MAX)) >= (major, minor, patch)
    }

    pub fn series_at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// Whether the release has a feature that appeared in `first` (a new
    /// series) and was backported to the given patch releases.
    pub fn has_backported(&self, first: (u32, u32), backports: &[(u32, u32, u32)]) -> bool {
        self.series_at_least(first.0, first.1)
            || backports.iter().any(|&(ma, mi, p)| {
                self.major == ma && self.minor == mi && self.at_least(ma, mi, p)
            })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A feature: the first series that has it, and the patch releases of
/// older series it was backported to.
pub type Availability = ((u32, u32), &'static [(u32, u32, u32)]);

/// `smtpd_forbid_bare_newline` with values yes/no.
pub const BARE_NEWLINE: Availability = ((3, 9), &[(3, 8, 4), (3, 7, 9), (3, 6, 13), (3, 5, 23)]);
/// Values `normalize` and `reject`.
pub const BARE_NEWLINE_NORMALIZE: Availability =
    ((3, 9), &[(3, 8, 5), (3, 7, 10), (3, 6, 14), (3, 5, 24)]);

/// The built-in default of `name` in release `v`, or None when the
/// parameter does not exist there (or no rule reads it).
pub fn default(name: &str, v: &Version) -> Option<String> {
    let s = |x: &str| Some(x.to_string());
    match name {
        "compatibility_level" => s("0"),
        "mail_name" => s("Postfix"),
        "mail_version" => Some(v.text.clone()),
        "mynetworks_style" if v.series_at_least(3, 0) => {
            s("${{$compatibility_level} <level {2} ? {subnet} : {host}}")
        }
        "mynetworks_style" => s("subnet"),
        "relay_domains" if v.series_at_least(3, 0) => {
            s("${{$compatibility_level} <level {2} ? {$mydestination} : {}}")
        }
        "relay_domains" => s("$mydestination"),
        "smtpd_relay_restrictions" if v.series_at_least(3, 0) => {
            s("${{$compatibility_level} <level {1} ? {} : \
             {permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination}}")
        }
        "smtpd_relay_restrictions" if v.series_at_least(2, 10) => {
            s("permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination")
        }
        "smtpd_recipient_restrictions" if v.series_at_least(2, 10) => s(""),
        "smtpd_recipient_restrictions" => s("permit_mynetworks, reject_unauth_destination"),
        "smtpd_client_restrictions"
        | "smtpd_helo_restrictions"
        | "smtpd_sender_restrictions"
        | "smtpd_data_restrictions"
        | "smtpd_end_of_data_restrictions"
        | "smtpd_etrn_restrictions"
        | "smtpd_restriction_classes"
        | "smtpd_discard_ehlo_keywords"
        | "smtpd_milters"
        | "non_smtpd_milters"
        | "content_filter"
        | "smtpd_tls_security_level"
        | "smtpd_tls_cert_file"
        | "smtpd_tls_key_file"
        | "smtpd_tls_eccert_file"
        | "smtpd_tls_dcert_file"
        | "smtpd_tls_exclude_ciphers"
        | "smtpd_tls_mandatory_exclude_ciphers"
        | "smtp_tls_security_level"
        | "smtp_tls_exclude_ciphers"
        | "smtp_tls_mandatory_exclude_ciphers"
        | "smtp_dns_support_level"
        | "postscreen_dnsbl_sites"
        | "smtpd_tls_CAfile"
        | "smtpd_tls_CApath"
        | "maillog_file" => s(""),
        "smtpd_tls_chain_files" if v.series_at_least(3, 4) => s(""),
        "mynetworks" | "myhostname" => None,
        "inet_interfaces" => s("all"),
        "disable_vrfy_command"
        | "smtpd_sasl_auth_enable"
        | "smtpd_tls_auth_only"
        | "smtpd_tls_wrappermode"
        | "smtpd_use_tls"
        | "smtpd_enforce_tls"
        | "smtp_use_tls"
        | "smtp_enforce_tls"
        | "smtpd_helo_required" => s("no"),
        "smtpd_tls_protocols" | "smtp_tls_protocols" if v.series_at_least(3, 6) => s(">=TLSv1"),
        "smtpd_tls_mandatory_protocols" | "smtp_tls_mandatory_protocols"
            if v.series_at_least(3, 6) =>
        {
            s(">=TLSv1")
        }
        "smtpd_tls_protocols"
        | "smtp_tls_protocols"
        | "smtpd_tls_mandatory_protocols"
        | "smtp_tls_mandatory_protocols"
            if v.series_at_least(3, 0) =>
        {
            s("!SSLv2, !SSLv3")
        }
        "smtpd_tls_protocols" | "smtp_tls_protocols" => s(""),
        "smtpd_tls_mandatory_protocols" | "smtp_tls_mandatory_protocols" => s("!SSLv2"),
        // "medium" for releases after the middle of 2015, "export" before.
        "smtpd_tls_ciphers" | "smtp_tls_ciphers" => {
            if v.at_least(3, 0, 2) || (v.major == 2 && v.minor == 11 && v.at_least(2, 11, 6)) {
                s("medium")
            } else {
                s("export")
            }
        }
        "smtpd_tls_mandatory_ciphers" | "smtp_tls_mandatory_ciphers" => s("medium"),
        "tls_high_cipherlist" => s("aNULL:-aNULL:HIGH:@STRENGTH"),
        "tls_medium_cipherlist" => s("aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"),
        "tls_low_cipherlist" => s("aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH"),
        "tls_export_cipherlist" => s("aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH"),
        "smtpd_sasl_security_options" => s("noanonymous"),
        "smtpd_sasl_tls_security_options" => s("$smtpd_sasl_security_options"),
        "smtpd_sasl_type" => s("cyrus"),
        "smtpd_banner" => s("$myhostname ESMTP $mail_name"),
        "message_size_limit" => s("10240000"),
        // A message_size_limit above these stops local/virtual delivery.
        "mailbox_size_limit" | "virtual_mailbox_limit" => s("51200000"),
        "smtpd_client_connection_rate_limit"
        | "smtpd_client_message_rate_limit"
        | "smtpd_client_recipient_rate_limit"
        | "smtpd_tls_loglevel"
        | "smtp_tls_loglevel" => s("0"),
        "smtpd_client_auth_rate_limit" if v.series_at_least(3, 1) => s("0"),
        "smtpd_client_event_limit_exceptions" => {
            s("${smtpd_client_connection_limit_exceptions:$mynetworks}")
        }
        "postscreen_greet_action" => s("ignore"),
        "smtpd_forbid_bare_newline" if v.series_at_least(3, 9) => s("normalize"),
        "smtpd_forbid_bare_newline" if v.has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1) => s("no"),
        "smtpd_forbid_bare_newline_exclusions"
            if v.has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1) =>
        {
            s("$mynetworks")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = Version::parse("3.7.11").unwrap();
        assert!(v.at_least(3, 7, 9) && !v.at_least(3, 8, 0));
        assert!(v.has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1));
        let old = Version::parse("3.7.8").unwrap();
        assert!(!old.has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1));
        assert!(!Version::parse("3.4.14")
            .unwrap()
            .has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1));
        let series = Version::parse("3.8").unwrap();
        assert!(series.has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1));
        assert_eq!(Version::parse("3.10.2-RC1").unwrap().minor, 10);
        assert!(Version::parse("garbage").is_none());
        assert_eq!(
            default(
                "smtpd_forbid_bare_newline",
                &Version::parse("3.10").unwrap()
            )
            .unwrap(),
            "normalize"
        );
        assert_eq!(default("smtpd_forbid_bare_newline", &v).unwrap(), "no");
        assert_eq!(default("smtpd_forbid_bare_newline", &old), None);
        assert_eq!(
            default("smtpd_tls_protocols", &Version::parse("3.5.9").unwrap()).unwrap(),
            "!SSLv2, !SSLv3"
        );
    }
}
