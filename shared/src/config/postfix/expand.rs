//! `$name` expansion as Postfix's `mac_expand` does it: `$name`, `${name}`,
//! `$(name)`, `$$`, `${name?value}`, `${name:value}`, `${name?{value}}`,
//! `${name:{value}}`, `${name?{value1}:{value2}}` and the relational form
//! `${{text1} == {text2} ? {text3} : {text4}}` (numeric when both sides are
//! all digits, else byte-wise; with the `<level`-style compatibility-level
//! comparisons Postfix uses in its own defaults).
//!
//! Untrusted input: nesting, work and output size are capped, and a
//! reference cycle stops at once. Postfix treats every such error as fatal;
//! here the error is recorded and the partial text kept.

use super::Source;
use std::collections::{HashMap, HashSet};

/// Postfix's own limit: `mac_expand` counts one level per macro or literal
/// text it handles, nested, and stops ("unreasonable macro call nesting")
/// past this one. A chain of 100 `$name` references ending in text is fine,
/// 101 are not.
pub(crate) const MAX_LEVEL: usize = 100;
/// Our own bound on real recursion: Postfix starts counting levels afresh
/// for the operands of a relational expression (and would recurse without
/// end through one that refers to itself); we do not. Small enough for a
/// 1 MiB stack (wasm), large enough for every expansion Postfix accepts.
pub(crate) const MAX_RECURSION: usize = 150;
/// Output an expansion may add to the text it starts from (plain text of
/// any length is never cut; growth through references is).
pub(crate) const MAX_OUTPUT: usize = 64 * 1024;
/// Parameter look-ups per expansion (a value that refers to an empty one
/// 2^n times grows no output but takes time).
pub(crate) const MAX_STEPS: usize = 100_000;
/// Bytes of looked-up values per expansion.
pub(crate) const MAX_LOOKUP_BYTES: usize = 64 << 20;

/// Bytes of expanded values kept for re-use per expansion.
const MAX_MEMO_BYTES: usize = 4 << 20;

/// Where `$name` values come from.
pub(crate) trait Lookup {
    /// The raw (unexpanded) value and, when it was set, where.
    fn lookup(&self, name: &str) -> Option<(String, Option<Source>)>;
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Expansion {
    pub text: String,
    /// Parameters referenced (directly or not), with where they were set.
    pub refs: Vec<(String, Option<Source>)>,
    /// The first error Postfix would have stopped at.
    pub error: Option<String>,
}

struct Ctx<'a> {
    lookup: &'a dyn Lookup,
    steps: usize,
    looked_up: usize,
    cap: usize,
    recursion: usize,
    stack: Vec<String>,
    seen: HashSet<String, foldhash::fast::RandomState>,
    /// `$name` values already expanded in this expansion (the same text
    /// every time), with how many levels below their own they nest: a
    /// value referred to 2^n times is expanded once.
    memo: HashMap<String, (String, usize), foldhash::fast::RandomState>,
    memo_bytes: usize,
    /// The deepest level reached.
    deepest: usize,
    out: Expansion,
}

pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// White space inside macro expressions (Postfix's `CHARS_SPACE`).
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

pub(crate) fn expand(lookup: &dyn Lookup, text: &str) -> Expansion {
    let mut ctx = Ctx {
        lookup,
        steps: 0,
        looked_up: 0,
        cap: MAX_OUTPUT + text.len(),
        recursion: 0,
        stack: Vec::new(),
        seen: HashSet::default(),
        memo: HashMap::default(),
        memo_bytes: 0,
        deepest: 0,
        out: Expansion::default(),
    };
    let mut buf = String::new();
    ctx.parse(text, 0, &mut buf);
    ctx.out.text = buf;
    ctx.out
}

/// Index just past the bracket matching the one at `open_at` (same kind,
/// nesting counted), or None when it is not closed.
fn matching(text: &str, open_at: usize, open: char, close: char) -> Option<usize> {
    let mut level = 0usize;
    for (i, c) in text[open_at..].char_indices() {
        if c == open {
            level += 1;
        } else if c == close {
            level -= 1;
            if level == 0 {
                return Some(open_at + i + 1);
            }
        }
    }
    None
}

/// `MAC_EXP_FIND_LEFT_CURLY`: white space, then `{`? The text from the `{`.
fn left_curly(s: &str) -> Option<&str> {
    let t = s.trim_start_matches(is_ws);
    t.starts_with('{').then_some(t)
}

/// `{payload}` at the start of `s`: (payload, rest after trailing white
/// space); None when unbalanced.
fn payload(s: &str) -> Option<(&str, &str)> {
    let end = matching(s, 0, '{', '}')?;
    Some((&s[1..end - 1], s[end..].trim_start_matches(is_ws)))
}

/// A compatibility level (`3`, `3.6`, `3.6.1`), compared part by part.
fn level_key(s: &str) -> Option<[u64; 3]> {
    let mut v = [0u64; 3];
    let mut parts = s.split('.');
    for slot in v.iter_mut() {
        match parts.next() {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                *slot = p.parse().ok()?
            }
            Some(_) => return None,
            None => break,
        }
    }
    parts.next().is_none().then_some(v)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl Ctx<'_> {
    fn fail(&mut self, msg: impl Into<String>) {
        if self.out.error.is_none() {
            self.out.error = Some(msg.into());
        }
    }

    fn stopped(&self) -> bool {
        self.out.error.is_some()
    }

    fn push(&mut self, buf: &mut String, s: &str) {
        if buf.len() + s.len() > self.cap {
            let mut cut = self.cap.saturating_sub(buf.len());
            while cut > 0 && !s.is_char_boundary(cut) {
                cut -= 1;
            }
            buf.push_str(&s[..cut]);
            self.fail(format!(
                "expansion grows by more than {MAX_OUTPUT} bytes (cut off)"
            ));
        } else {
            buf.push_str(s);
        }
    }

    /// One `mac_expand_callback` at `level`: false (and an error) past
    /// Postfix's nesting limit.
    fn enter(&mut self, level: usize, what: &str) -> bool {
        self.deepest = self.deepest.max(level);
        if level > MAX_LEVEL {
            self.fail(format!(
                "unreasonable macro call nesting: \"{}\"",
                short(what)
            ));
        }
        !self.stopped()
    }

    /// `mac_parse`: literal text and macros of one text, each handled at
    /// `level`; what they expand to is parsed at `level + 1`.
    fn parse(&mut self, text: &str, level: usize, buf: &mut String) {
        if self.recursion >= MAX_RECURSION {
            self.fail("unreasonable macro call nesting");
            return;
        }
        self.recursion += 1;
        self.parse_text(text, level, buf);
        self.recursion -= 1;
    }

    fn parse_text(&mut self, text: &str, level: usize, buf: &mut String) {
        let mut rest = text;
        while !self.stopped() && !rest.is_empty() {
            let i = rest.find('$').unwrap_or(rest.len());
            let after = rest.get(i + 1..).unwrap_or("");
            let (literal, next) = match after.chars().next() {
                // `$$` is a literal `$`.
                Some('$') => (Some((&rest[..i], "$")), &after[1..]),
                _ if i > 0 || i == rest.len() => (Some((&rest[..i], "")), &rest[i..]),
                _ => (None, rest),
            };
            if let Some((text, dollar)) = literal {
                if !self.enter(level, text) {
                    return;
                }
                self.push(buf, text);
                self.push(buf, dollar);
                rest = next;
                continue;
            }
            // At a `$` that starts a macro.
            match after.chars().next() {
                Some(open @ ('{' | '(')) => {
                    let close = if open == '{' { '}' } else { ')' };
                    let Some(end) = matching(after, 0, open, close) else {
                        self.fail(format!("truncated macro reference: \"{}\"", short(rest)));
                        return;
                    };
                    let inner = &after[1..end - 1];
                    if inner.is_empty() {
                        self.fail(format!("empty macro name: \"{}\"", short(text)));
                        return;
                    }
                    if !self.enter(level, inner) {
                        return;
                    }
                    self.expression(inner, level, buf);
                    rest = &after[end..];
                }
                Some(c) if is_name_char(c) => {
                    let end = after
                        .find(|c: char| !is_name_char(c))
                        .unwrap_or(after.len());
                    if !self.enter(level, &after[..end]) {
                        return;
                    }
                    self.name_value(&after[..end], level, buf);
                    rest = &after[end..];
                }
                _ => {
                    self.fail(format!("empty macro name: \"{}\"", short(text)));
                    return;
                }
            }
        }
    }

    fn raw(&mut self, name: &str) -> Option<String> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            self.fail(format!("more than {MAX_STEPS} parameter look-ups"));
            return None;
        }
        let found = self.lookup.lookup(name);
        if self.seen.len() < 1000 && self.seen.insert(name.to_string()) {
            self.out
                .refs
                .push((name.to_string(), found.as_ref().and_then(|f| f.1.clone())));
        }
        let v = found.map(|f| f.0);
        self.looked_up += v.as_ref().map_or(0, String::len);
        if self.looked_up > MAX_LOOKUP_BYTES {
            self.fail(format!(
                "more than {MAX_LOOKUP_BYTES} bytes of parameter values looked up"
            ));
            return None;
        }
        v
    }

    /// `$name` (and `${name}`): the value, expanded one level down.
    fn name_value(&mut self, name: &str, level: usize, buf: &mut String) {
        if self.stack.iter().any(|n| n == name) {
            self.fail(format!(
                "unreasonable macro call nesting: \"{name}\" refers to itself"
            ));
            return;
        }
        if let Some((text, height)) = self.memo.get(name) {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return self.fail(format!("more than {MAX_STEPS} parameter look-ups"));
            }
            let (text, deepest) = (text.clone(), level + 1 + height);
            if !self.enter(deepest, name) {
                return;
            }
            return self.push(buf, &text);
        }
        if let Some(v) = self.raw(name) {
            if v.is_empty() {
                return;
            }
            self.stack.push(name.to_string());
            let (start, saved) = (buf.len(), self.deepest);
            self.deepest = level + 1;
            self.parse(&v, level + 1, buf);
            let height = self.deepest - (level + 1);
            self.deepest = self.deepest.max(saved);
            self.stack.pop();
            let text = &buf[start..];
            if !self.stopped() && self.memo_bytes + text.len() <= MAX_MEMO_BYTES {
                self.memo_bytes += text.len() + name.len();
                self.memo
                    .insert(name.to_string(), (text.to_string(), height));
            }
        }
    }

    /// The inside of `${...}` or `$(...)`.
    fn expression(&mut self, inner: &str, level: usize, buf: &mut String) {
        if let Some(cp) = left_curly(inner) {
            // Relational: the result stands for a parameter value "true"
            // or "" in what follows.
            let Some((result, rest)) = self.relational(cp) else {
                return;
            };
            let set = result;
            let mut chars = rest.chars();
            return match chars.next() {
                None => {
                    if set {
                        self.parse("true", level + 1, buf)
                    }
                }
                Some(op @ ('?' | ':')) => self.conditional(set, op, chars.as_str(), level, buf),
                Some(_) => self.fail(format!(
                    "\"?\" or \":\" expected at: \"...}}>>>{}\"",
                    short(rest)
                )),
            };
        }
        // A name, white space around it allowed: `${ name }`, `${name ?x}`.
        let start = inner.trim_start_matches(is_ws);
        let end = start
            .find(|c: char| !is_name_char(c))
            .unwrap_or(start.len());
        let (name, rest) = start.split_at(end);
        let after_ws = rest.trim_start_matches(is_ws);
        let mut chars = after_ws.chars();
        match chars.next() {
            None if name.is_empty() => self.fail(format!("empty macro name: \"{}\"", short(inner))),
            None => self.name_value(name, level, buf),
            Some(op @ ('?' | ':')) => {
                let set = self.raw(name).is_some_and(|v| !v.is_empty());
                if !self.stopped() {
                    self.conditional(set, op, chars.as_str(), level, buf)
                }
            }
            Some(_) => self.fail(format!(
                "attribute name syntax error at: \"{}\"",
                short(inner)
            )),
        }
    }

    /// After `?` or `:` (the text `cp` follows the operator): Postfix's
    /// fall-through from `?{text}` to `:{text}`.
    fn conditional(&mut self, set: bool, op: char, cp: &str, level: usize, buf: &mut String) {
        let mut cp = cp;
        if op == '?' {
            let when_true = match left_curly(cp) {
                Some(t) => match payload(t) {
                    Some((p, rest)) => {
                        cp = rest;
                        p
                    }
                    None => return self.fail(format!("unbalanced {{}} in \"{}\"", short(t))),
                },
                None => std::mem::take(&mut cp),
            };
            if set {
                self.parse(when_true, level + 1, buf);
            }
            if cp.is_empty() || self.stopped() {
                return;
            }
            let Some(rest) = cp.strip_prefix(':') else {
                return self.fail(format!("\":\" expected at: \"...}}>>>{}\"", short(cp)));
            };
            cp = rest;
        }
        let when_false = match left_curly(cp) {
            Some(t) => match payload(t) {
                Some((p, rest)) => {
                    cp = rest;
                    p
                }
                None => return self.fail(format!("unbalanced {{}} in \"{}\"", short(t))),
            },
            None => std::mem::take(&mut cp),
        };
        if !set {
            self.parse(when_false, level + 1, buf);
        }
        if !cp.is_empty() {
            self.fail(format!("unexpected input at: \"...}}>>>{}\"", short(cp)));
        }
    }

    /// `{left} op {right}` at the start of `cp`: (result, text after it).
    fn relational<'t>(&mut self, cp: &'t str) -> Option<(bool, &'t str)> {
        let bad = |c: &mut Self, why: &str| {
            c.fail(format!(
                "bad relational expression ({why}): \"{}\"",
                short(cp)
            ));
            None
        };
        let Some((lhs, rest)) = payload(cp) else {
            return bad(self, "unbalanced {}");
        };
        let op_len = rest
            .find(|c: char| !"<>!=?+-*/~&|%".contains(c))
            .unwrap_or(rest.len());
        let (op, rest) = rest.split_at(op_len);
        if !matches!(op, "==" | "!=" | "<" | "<=" | ">" | ">=") {
            return bad(self, "operator expected");
        }
        let suffix_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let (suffix, rest) = rest.split_at(suffix_len);
        if !suffix.is_empty() && suffix != "level" {
            return bad(self, "bad operator suffix");
        }
        let Some((rhs, rest)) = left_curly(rest).and_then(payload) else {
            return bad(self, "{expression} expected");
        };
        // Postfix expands each operand as a new expansion (its nesting
        // count starts afresh).
        let mut l = String::new();
        let mut r = String::new();
        let saved = self.deepest;
        self.parse(lhs, 0, &mut l);
        self.parse(rhs, 0, &mut r);
        self.deepest = saved;
        if self.stopped() {
            return None;
        }
        let ord = if suffix == "level" {
            match (level_key(&l), level_key(&r)) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => {
                    return bad(self, "malformed compatibility level syntax");
                }
            }
        } else if all_digits(&l) && all_digits(&r) {
            match (l.parse::<i64>(), r.parse::<i64>()) {
                (Ok(a), Ok(b)) => a.cmp(&b),
                _ => return bad(self, "number out of range"),
            }
        } else {
            l.as_bytes().cmp(r.as_bytes())
        };
        let result = match op {
            "==" => ord.is_eq(),
            "!=" => ord.is_ne(),
            "<" => ord.is_lt(),
            "<=" => ord.is_le(),
            ">" => ord.is_gt(),
            _ => ord.is_ge(),
        };
        Some((result, rest))
    }
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<&'static str, &'static str>);
    impl Lookup for Map {
        fn lookup(&self, name: &str) -> Option<(String, Option<Source>)> {
            self.0.get(name).map(|v| (v.to_string(), None))
        }
    }

    fn x(defs: &[(&'static str, &'static str)], text: &str) -> Expansion {
        expand(&Map(defs.iter().copied().collect()), text)
    }

    /// Each case was checked with `postconf -c DIR -x -h smtpd_banner`
    /// (Postfix 3.7.11).
    #[test]
    fn matches_postconf() {
        let d = [
            ("a", "x"),
            ("e", ""),
            ("b", "$c"),
            ("c", "${d?$f}"),
            ("d", "1"),
            ("f", "deep"),
            ("bc", "y"),
        ];
        for (text, want) in [
            ("${a?yes}", "yes"),
            ("${e?yes}|${e:no}", "|no"),
            ("${zz?yes}|${zz:no}|$zz|", "|no||"),
            ("${a?{y es}}|${a:{no}}", "y es|"),
            ("${a?{y}:{n}}", "y"),
            ("${zz?{y}:{n}}", "n"),
            ("${a?{x} }", "x"),
            ("${a?x}y}", "xy}"),
            ("${{x} == {x} ? {eq} : {ne}}", "eq"),
            (
                "${{3.10} <level {3.9} ? {lt} : {ge}}|${{3.10} < {3.9} ? {lt} : {ge}}",
                "ge|lt",
            ),
            ("$(a)", "x"),
            ("$$a", "$a"),
            ("${a}c$bc", "xcy"),
            ("$b", "deep"),
            ("$a-b", "x-b"),
            ("${ a }|${e ?x}", "x|"),
            ("${a?{x}:y}|${e?{x}:y}", "x|y"),
            ("$1a", ""),
        ] {
            let e = x(&d, text);
            assert_eq!(e.text, want, "{text}");
            assert_eq!(e.error, None, "{text}");
        }
        for bad in ["${a", "x$", "x$ y", "${a-b}", "${a?{x}y}", "${a:{x}:{y}}"] {
            assert!(x(&d, bad).error.is_some(), "{bad}");
        }
    }

    fn chain(n: usize) -> Vec<(&'static str, &'static str)> {
        let mut defs = vec![("d0", "bottom"), ("a", "x")];
        for i in 1..=n {
            let (k, v) = (format!("d{i}"), format!("$d{}", i - 1));
            defs.push((Box::leak(k.into_boxed_str()), Box::leak(v.into_boxed_str())));
        }
        defs
    }

    /// postconf 3.7.11 expands a chain of 100 references ending in text
    /// and stops at 101: mac_expand counts literal text as a level too.
    #[test]
    fn nesting_limit_is_postfix_s() {
        let e = x(&chain(99), "$d99");
        assert_eq!((e.text.as_str(), e.error), ("bottom", None));
        assert!(x(&chain(100), "$d100").error.unwrap().contains("nesting"));
        // A memoised value still counts its depth where it is re-used
        // (each case checked with postconf).
        let e = x(&chain(99), "$d50 ${d99}");
        assert_eq!(e.error, None);
        let e = x(&chain(99), "$d98 ${a?{$d99}}");
        assert!(e.error.is_some(), "{}", e.text);
        assert_eq!(x(&chain(99), "${a?{$d98}}").error, None);
        assert!(x(&chain(99), "${a?{$d99}}").error.is_some());
    }

    /// Checked with `postconf -c DIR -x -h` (3.7.11).
    #[test]
    fn relational_and_odd_forms_match_postconf() {
        let d = [("a", "x"), ("mail_name", "Postfix")];
        for (text, want) in [
            // No operator after the expression: the fake value "true".
            ("${{a}=={a}}|${{a}=={b}}", "true|"),
            ("${{a}=={a}:{x}}|${{a}=={b}:{x}}", "|x"),
            // All digits: numbers; otherwise bytes.
            ("${{010}=={10}?{num}:{str}}", "num"),
            ("${{abc} < {abd}?{lt}:{ge}}", "lt"),
            ("${{3.6}<{3.10}?{lt}:{ge}}", "ge"),
            ("${{-1}<{2}?{lt}:{ge}}", "lt"),
            ("${{}=={}?{empty}}", "empty"),
            ("${{2}<level{10}?{lt}:{ge}}", "lt"),
            // An empty name in a test is an undefined parameter.
            ("${?x}|${:y}", "|y"),
            (
                "${ mail_name ?x}|${mail_name\t?\t{y}}|${mail_name?a{b}c}",
                "x|y|a{b}c",
            ),
        ] {
            let e = x(&d, text);
            assert_eq!(e.text, want, "{text}");
            assert_eq!(e.error, None, "{text}");
        }
        for bad in [
            "${}",
            "${{x}<level{10}?{a}}",
            "${{a}~{b}?{c}}",
            "${{a}==x{b}?{c}}",
            "$(mail_name?{a)b})",
            "${mail_name\x0b?x}",
            "${{99999999999999999999}=={1}?{a}}",
        ] {
            assert!(x(&d, bad).error.is_some(), "{bad}");
        }
    }

    #[test]
    fn cycles_and_blowups_stop() {
        let e = x(&[("a", "$b"), ("b", "$a")], "$a");
        assert!(e.error.unwrap().contains("nesting"));
        // 2^40 bytes if expanded naively.
        let mut defs: Vec<(&'static str, &'static str)> = Vec::new();
        let names: Vec<&'static str> = (0..40)
            .map(|i| &*Box::leak(format!("p{i}").into_boxed_str()))
            .collect();
        for i in 1..40 {
            let v = format!("${0} ${0}", names[i - 1]);
            defs.push((names[i], Box::leak(v.into_boxed_str())));
        }
        defs.push((names[0], "xxxxxxxx"));
        let e = x(&defs, "$p39");
        assert!(e.error.is_some());
        assert!(e.text.len() <= MAX_OUTPUT + 4);
        // Long plain text is never cut.
        let long = "x".repeat(MAX_OUTPUT * 2);
        assert_eq!(x(&[], &long).text.len(), MAX_OUTPUT * 2);
        let deep: String = "${a?".repeat(5000) + &"}".repeat(5000);
        assert!(x(&[("a", "1")], &deep).error.is_some());
        // 2^60 references to an empty value: no output, bounded work.
        let mut defs: Vec<(&'static str, &'static str)> = vec![("e0", "")];
        for i in 1..=60 {
            let (k, v) = (format!("e{i}"), format!("${{e{0}?}}$e{0}$e{0}", i - 1));
            defs.push((Box::leak(k.into_boxed_str()), Box::leak(v.into_boxed_str())));
        }
        let t = std::time::Instant::now();
        let e = x(&defs, "$e60");
        assert!(e.text.is_empty());
        assert!(t.elapsed().as_secs() < 5);
        // Relational operands restart Postfix's count; ours still stops.
        let rel = "${{$r} == {x} ? {y}}";
        assert!(x(&[("r", rel)], "$r").error.is_some());
        let nested: String = "${{".repeat(3000) + &"} == {x} ? {y}}".repeat(3000);
        assert!(x(&[], &nested).error.is_some());
    }
}
