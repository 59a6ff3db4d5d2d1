//! The `.mc` macro behind each sendmail.cf option, and the defaults the
//! rules judge by.
//!
//! [`MACROS`] is every `_OPTION(Name, `confMACRO', ...)` line of
//! `cf/m4/proto.m4` in sendmail 8.17.1.9 (Debian's sendmail-cf
//! 8.17.1.9-2+deb12u2), sorted by macro name: the authoritative mapping
//! the cf generator itself uses (confPRIVACY_FLAGS → PrivacyOptions,
//! confSMTP_LOGIN_MSG → SmtpGreetingMessage, ...).
//!
//! Two sets of defaults apply to an option that is not set:
//! - in a `.mc`, `cf/m4/cfhead.m4` defines some macros before the file is
//!   read ([`mc_default`]: PrivacyOptions `authwarnings`, LogLevel 9,
//!   SmtpGreetingMessage `$j Sendmail $v/$Z; $b`), which the generated
//!   sendmail.cf then states;
//! - in a sendmail.cf without the `O` line, the binary's own default
//!   ([`binary_default`], from the sendmail operations guide and the
//!   commented `#O` lines proto.m4 writes: PrivacyOptions empty = `public`,
//!   LogLevel 9, SmtpGreetingMessage `$j Sendmail $v ready at $b`,
//!   MaxMessageSize 0 = unlimited, ...).

/// (`.mc` macro, sendmail.cf option), sorted by macro (byte order).
pub const MACROS: &[(&str, &str)] = &[
    ("ALIAS_FILE", "AliasFile"),
    ("STATUS_FILE", "StatusFile"),
    ("confALIAS_WAIT", "AliasWait"),
    ("confALLOW_BOGUS_HELO", "AllowBogusHELO"),
    ("confAUTH_MAX_BITS", "AuthMaxBits"),
    ("confAUTH_MECHANISMS", "AuthMechanisms"),
    ("confAUTH_OPTIONS", "AuthOptions"),
    ("confAUTH_REALM", "AuthRealm"),
    ("confBAD_RCPT_THROTTLE", "BadRcptThrottle"),
    ("confBIND_OPTS", "ResolverOptions"),
    ("confBLANK_SUB", "BlankSub"),
    ("confCACERT", "CACertFile"),
    ("confCACERT_PATH", "CACertPath"),
    ("confCERT_FINGERPRINT_ALGORITHM", "CertFingerprintAlgorithm"),
    ("confCHECKPOINT_INTERVAL", "CheckpointInterval"),
    ("confCHECK_ALIASES", "CheckAliases"),
    ("confCIPHER_LIST", "CipherList"),
    ("confCLIENT_CERT", "ClientCertFile"),
    ("confCLIENT_KEY", "ClientKeyFile"),
    ("confCLIENT_SSL_OPTIONS", "ClientSSLOptions"),
    ("confCOLON_OK_IN_ADDR", "ColonOkInAddr"),
    ("confCONNECTION_RATE_THROTTLE", "ConnectionRateThrottle"),
    (
        "confCONNECTION_RATE_WINDOW_SIZE",
        "ConnectionRateWindowSize",
    ),
    ("confCONNECT_ONLY_TO", "ConnectOnlyTo"),
    ("confCONTROL_SOCKET_NAME", "ControlSocketName"),
    ("confCON_EXPENSIVE", "HoldExpensive"),
    ("confCOPY_ERRORS_TO", "PostmasterCopy"),
    ("confCRL", "CRLFile"),
    ("confCRL_PATH", "CRLPath"),
    ("confDANE", "DANE"),
    ("confDEAD_LETTER_DROP", "DeadLetterDrop"),
    ("confDEF_AUTH_INFO", "DefaultAuthInfo"),
    ("confDEF_CHAR_SET", "DefaultCharSet"),
    ("confDEF_USER_ID", "DefaultUser"),
    ("confDELAY_LA", "DelayLA"),
    ("confDELIVERY_MODE", "DeliveryMode"),
    ("confDELIVER_BY_MIN", "DeliverByMin"),
    ("confDF_BUFFER_SIZE", "DataFileBufferSize"),
    ("confDH_PARAMETERS", "DHParameters"),
    ("confDIAL_DELAY", "DialDelay"),
    (
        "confDIRECT_SUBMISSION_MODIFIERS",
        "DirectSubmissionModifiers",
    ),
    ("confDONT_BLAME_SENDMAIL", "DontBlameSendmail"),
    ("confDONT_EXPAND_CNAMES", "DontExpandCnames"),
    ("confDONT_INIT_GROUPS", "DontInitGroups"),
    ("confDONT_PROBE_INTERFACES", "DontProbeInterfaces"),
    ("confDONT_PRUNE_ROUTES", "DontPruneRoutes"),
    ("confDOUBLE_BOUNCE_ADDRESS", "DoubleBounceAddress"),
    ("confEIGHT_BIT_HANDLING", "EightBitMode"),
    ("confERROR_MESSAGE", "ErrorHeader"),
    ("confERROR_MODE", "ErrorMode"),
    ("confFALLBACK_MX", "FallbackMXhost"),
    ("confFALLBACK_SMARTHOST", "FallbackSmartHost"),
    ("confFAST_SPLIT", "FastSplit"),
    ("confFORWARD_PATH", "ForwardPath"),
    ("confFROM_LINE", "UnixFromLine"),
    ("confHELO_NAME", "HeloName"),
    ("confHOSTS_FILE", "HostsFile"),
    ("confHOST_STATUS_DIRECTORY", "HostStatusDirectory"),
    ("confIGNORE_DOTS", "IgnoreDots"),
    ("confINPUT_MAIL_FILTERS", "InputMailFilters"),
    ("confLDAP_DEFAULT_SPEC", "LDAPDefaultSpec"),
    ("confLOG_LEVEL", "LogLevel"),
    ("confMAILBOX_DATABASE", "MailboxDatabase"),
    ("confMATCH_GECOS", "MatchGECOS"),
    ("confMAX_ALIAS_RECURSION", "MaxAliasRecursion"),
    ("confMAX_DAEMON_CHILDREN", "MaxDaemonChildren"),
    ("confMAX_HEADERS_LENGTH", "MaxHeadersLength"),
    ("confMAX_HOP", "MaxHopCount"),
    ("confMAX_MESSAGE_SIZE", "MaxMessageSize"),
    ("confMAX_MIME_HEADER_LENGTH", "MaxMimeHeaderLength"),
    ("confMAX_NOOP_COMMANDS", "MaxNOOPCommands"),
    ("confMAX_QUEUE_AGE", "MaxQueueAge"),
    ("confMAX_QUEUE_CHILDREN", "MaxQueueChildren"),
    ("confMAX_QUEUE_RUN_SIZE", "MaxQueueRunSize"),
    ("confMAX_RCPTS_PER_MESSAGE", "MaxRecipientsPerMessage"),
    ("confMAX_RUNNERS_PER_QUEUE", "MaxRunnersPerQueue"),
    ("confMCI_CACHE_SIZE", "ConnectionCacheSize"),
    ("confMCI_CACHE_TIMEOUT", "ConnectionCacheTimeout"),
    ("confME_TOO", "MeToo"),
    ("confMILTER_LOG_LEVEL", "Milter.LogLevel"),
    ("confMILTER_MACROS_CONNECT", "Milter.macros.connect"),
    ("confMILTER_MACROS_DATA", "Milter.macros.data"),
    ("confMILTER_MACROS_ENVFROM", "Milter.macros.envfrom"),
    ("confMILTER_MACROS_ENVRCPT", "Milter.macros.envrcpt"),
    ("confMILTER_MACROS_EOH", "Milter.macros.eoh"),
    ("confMILTER_MACROS_EOM", "Milter.macros.eom"),
    ("confMILTER_MACROS_HELO", "Milter.macros.helo"),
    ("confMIME_FORMAT_ERRORS", "SendMimeErrors"),
    ("confMIN_FREE_BLOCKS", "MinFreeBlocks"),
    ("confMIN_QUEUE_AGE", "MinQueueAge"),
    ("confMUST_QUOTE_CHARS", "MustQuoteChars"),
    ("confNICE_QUEUE_RUN", "NiceQueueRun"),
    ("confNO_RCPT_ACTION", "NoRecipientAction"),
    ("confOLD_STYLE_HEADERS", "OldStyleHeaders"),
    ("confOPERATORS", "OperatorChars"),
    ("confPID_FILE", "PidFile"),
    ("confPRIVACY_FLAGS", "PrivacyOptions"),
    ("confPROCESS_TITLE_PREFIX", "ProcessTitlePrefix"),
    ("confQUEUE_FACTOR", "QueueFactor"),
    ("confQUEUE_FILE_MODE", "QueueFileMode"),
    ("confQUEUE_LA", "QueueLA"),
    ("confQUEUE_SORT_ORDER", "QueueSortOrder"),
    ("confRAND_FILE", "RandFile"),
    ("confREFUSE_LA", "RefuseLA"),
    ("confREJECT_LOG_INTERVAL", "RejectLogInterval"),
    ("confREJECT_NUL", "RejectNUL"),
    ("confREQUIRES_DIR_FSYNC", "RequiresDirfsync"),
    ("confRRT_IMPLIES_DSN", "RrtImpliesDsn"),
    ("confRUN_AS_USER", "RunAsUser"),
    ("confSAFE_FILE_ENV", "SafeFileEnvironment"),
    ("confSAFE_QUEUE", "SuperSafe"),
    ("confSAVE_FROM_LINES", "SaveFromLine"),
    ("confSEPARATE_PROC", "ForkEachJob"),
    ("confSERVER_CERT", "ServerCertFile"),
    ("confSERVER_KEY", "ServerKeyFile"),
    ("confSERVER_SSL_OPTIONS", "ServerSSLOptions"),
    ("confSERVICE_SWITCH_FILE", "ServiceSwitchFile"),
    ("confSEVEN_BIT_INPUT", "SevenBitInput"),
    ("confSHARED_MEMORY_KEY", "SharedMemoryKey"),
    ("confSHARED_MEMORY_KEY_FILE", "SharedMemoryKeyFile"),
    ("confSINGLE_LINE_FROM_HEADER", "SingleLineFromHeader"),
    ("confSINGLE_THREAD_DELIVERY", "SingleThreadDelivery"),
    ("confSMTP_LOGIN_MSG", "SmtpGreetingMessage"),
    ("confSOFT_BOUNCE", "SoftBounce"),
    ("confSSL_ENGINE", "SSLEngine"),
    ("confSSL_ENGINE_PATH", "SSLEnginePath"),
    ("confTEMP_FILE_MODE", "TempFileMode"),
    ("confTLS_FALLBACK_TO_CLEAR", "TLSFallbacktoClear"),
    ("confTLS_SRV_OPTIONS", "TLSSrvOptions"),
    ("confTO_ACONNECT", "Timeout.aconnect"),
    ("confTO_AUTH", "Timeout.auth"),
    ("confTO_COMMAND", "Timeout.command"),
    ("confTO_CONNECT", "Timeout.connect"),
    ("confTO_CONTROL", "Timeout.control"),
    ("confTO_DATABLOCK", "Timeout.datablock"),
    ("confTO_DATAFINAL", "Timeout.datafinal"),
    ("confTO_DATAINIT", "Timeout.datainit"),
    ("confTO_FILEOPEN", "Timeout.fileopen"),
    ("confTO_HELO", "Timeout.helo"),
    ("confTO_HOSTSTATUS", "Timeout.hoststatus"),
    ("confTO_ICONNECT", "Timeout.iconnect"),
    ("confTO_IDENT", "Timeout.ident"),
    ("confTO_INITIAL", "Timeout.initial"),
    ("confTO_LHLO", "Timeout.lhlo"),
    ("confTO_MAIL", "Timeout.mail"),
    ("confTO_MISC", "Timeout.misc"),
    ("confTO_QUEUERETURN", "Timeout.queuereturn"),
    ("confTO_QUEUERETURN_DSN", "Timeout.queuereturn.dsn"),
    (
        "confTO_QUEUERETURN_NONURGENT",
        "Timeout.queuereturn.non-urgent",
    ),
    ("confTO_QUEUERETURN_NORMAL", "Timeout.queuereturn.normal"),
    ("confTO_QUEUERETURN_URGENT", "Timeout.queuereturn.urgent"),
    ("confTO_QUEUEWARN", "Timeout.queuewarn"),
    ("confTO_QUEUEWARN_DSN", "Timeout.queuewarn.dsn"),
    ("confTO_QUEUEWARN_NONURGENT", "Timeout.queuewarn.non-urgent"),
    ("confTO_QUEUEWARN_NORMAL", "Timeout.queuewarn.normal"),
    ("confTO_QUEUEWARN_URGENT", "Timeout.queuewarn.urgent"),
    ("confTO_QUIT", "Timeout.quit"),
    ("confTO_RCPT", "Timeout.rcpt"),
    ("confTO_RESOLVER_RETRANS", "Timeout.resolver.retrans"),
    (
        "confTO_RESOLVER_RETRANS_FIRST",
        "Timeout.resolver.retrans.first",
    ),
    (
        "confTO_RESOLVER_RETRANS_NORMAL",
        "Timeout.resolver.retrans.normal",
    ),
    ("confTO_RESOLVER_RETRY", "Timeout.resolver.retry"),
    (
        "confTO_RESOLVER_RETRY_FIRST",
        "Timeout.resolver.retry.first",
    ),
    (
        "confTO_RESOLVER_RETRY_NORMAL",
        "Timeout.resolver.retry.normal",
    ),
    ("confTO_RSET", "Timeout.rset"),
    ("confTO_STARTTLS", "Timeout.starttls"),
    ("confTRUSTED_USER", "TrustedUser"),
    ("confTRY_NULL_MX_LIST", "TryNullMXList"),
    ("confUNSAFE_GROUP_WRITES", "UnsafeGroupWrites"),
    ("confUSERDB_SPEC", "UserDatabaseSpec"),
    (
        "confUSE_COMPRESSED_IPV6_ADDRESSES",
        "UseCompressedIPv6Addresses",
    ),
    ("confUSE_ERRORS_TO", "UseErrorsTo"),
    ("confUSE_MSP", "UseMSP"),
    ("confWORK_CLASS_FACTOR", "ClassFactor"),
    ("confWORK_RECIPIENT_FACTOR", "RecipientFactor"),
    ("confWORK_TIME_FACTOR", "RetryFactor"),
    ("confXF_BUFFER_SIZE", "XscriptFileBufferSize"),
];

/// The sendmail.cf option a `.mc` macro sets.
pub fn option_of(macro_name: &str) -> Option<&'static str> {
    MACROS
        .binary_search_by(|(m, _)| (*m).cmp(macro_name))
        .ok()
        .and_then(|i| MACROS.get(i))
        .map(|(_, o)| *o)
}

/// The `.mc` macro of a sendmail.cf option (for remediation snippets).
pub fn macro_of(option: &str) -> Option<&'static str> {
    MACROS
        .iter()
        .find(|(_, o)| o.eq_ignore_ascii_case(option))
        .map(|(m, _)| *m)
}

/// What cfhead.m4 defines before a `.mc` is read (options the rules read).
pub fn mc_default(option: &str) -> Option<&'static str> {
    Some(match option {
        "PrivacyOptions" => "authwarnings",
        "LogLevel" => "9",
        "SmtpGreetingMessage" => "$j Sendmail $v/$Z; $b",
        _ => return binary_default(option),
    })
}

/// The binary's default when sendmail.cf has no `O` line for the option
/// (options the rules read). `None`: unset (no value at all).
pub fn binary_default(option: &str) -> Option<&'static str> {
    Some(match option {
        "PrivacyOptions" => "",
        // op.me: "Defaults to 9" (proto.m4's commented line says 10).
        "LogLevel" => "9",
        "SmtpGreetingMessage" => "$j Sendmail $v ready at $b",
        "MaxMessageSize" => "0",
        "MaxDaemonChildren" => "0",
        "ConnectionRateThrottle" => "0",
        "AuthOptions" => "",
        "AuthMechanisms" => "EXTERNAL GSSAPI KERBEROS_V4 DIGEST-MD5 CRAM-MD5",
        "ServerSSLOptions" => "",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_maps_the_named_macros() {
        assert!(MACROS.windows(2).all(|w| w[0].0 < w[1].0));
        for (m, o) in [
            ("confPRIVACY_FLAGS", "PrivacyOptions"),
            ("confAUTH_OPTIONS", "AuthOptions"),
            ("confSERVER_CERT", "ServerCertFile"),
            ("confMAX_MESSAGE_SIZE", "MaxMessageSize"),
            ("confLOG_LEVEL", "LogLevel"),
            ("confSMTP_LOGIN_MSG", "SmtpGreetingMessage"),
            ("confCONNECTION_RATE_THROTTLE", "ConnectionRateThrottle"),
            ("confMAX_DAEMON_CHILDREN", "MaxDaemonChildren"),
            ("confSERVER_SSL_OPTIONS", "ServerSSLOptions"),
            ("confAUTH_MECHANISMS", "AuthMechanisms"),
        ] {
            assert_eq!(option_of(m), Some(o), "{m}");
            assert_eq!(macro_of(o), Some(m), "{o}");
        }
        assert_eq!(option_of("confNOPE"), None);
    }
}
