//! The sample configurations one click away on the paste tab: a weak and a
//! hardened Postfix setup. They are the test fixtures themselves
//! (tests/fixtures/postfix/), so what the page shows is what the tests
//! check: the weak one fails the relay, VRFY and banner rules, the hardened
//! one passes every postfix.* rule.

/// A deliberately weak main.cf.
pub const WEAK: &str = concat!(
    "# file: main.cf\n",
    include_str!("../../tests/fixtures/postfix/weak-main.cf"),
);

/// A hardened main.cf and master.cf.
pub const HARDENED: &str = concat!(
    "# file: main.cf\n",
    include_str!("../../tests/fixtures/postfix/hardened-main.cf"),
    "# file: master.cf\n",
    include_str!("../../tests/fixtures/postfix/master.cf"),
);
