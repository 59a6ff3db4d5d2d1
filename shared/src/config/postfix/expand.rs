//! `$name` expansion as Postfix's `mac_expand` does it: `$name`, `${name}`,
//! `$(name)`, `$$`, `${name?value}`, `${name:value}`, `${name?{value}}`,
//! `${name:{value}}`, `${name?{value1}:{value2}}` and the relational form
//! `${{text1} == {text2} ? {text3} : {text4}}` (with the `<level`-style
//! compatibility-level comparisons Postfix uses in its own defaults).
//!
//! Untrusted input: depth, work and output size are capped, and a reference
//! cycle stops at once. Postfix treats every such error as fatal; here the
//! error is recorded and the partial text kept.

use super::Source;
use std::collections::HashSet;

/// Postfix's own limit ("unreasonable macro call nesting").
pub(crate) const MAX_DEPTH: usize = 100;
/// Output an expansion may add to the text it starts from (plain text of
/// any length is never cut; growth through references is).
pub(crate) const MAX_OUTPUT: usize = 64 * 1024;
/// Parameter look-ups per expansion.
pub(crate) const MAX_STEPS: usize = 1_000;

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
    cap: usize,
    depth: usize,
    stack: Vec<String>,
    seen: HashSet<String>,
    out: Expansion,
}

pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub(crate) fn expand(lookup: &dyn Lookup, text: &str) -> Expansion {
    let mut ctx = Ctx {
        lookup,
        steps: 0,
        cap: MAX_OUTPUT + text.len(),
        depth: 0,
        stack: Vec::new(),
        seen: HashSet::new(),
        out: Expansion::default(),
    };
    let mut buf = String::new();
    ctx.expand_into(text, &mut buf);
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

/// Parses `{text}` at the start of `s` (after white space): (inner, rest).
fn braced(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if !s.starts_with('{') {
        return None;
    }
    let end = matching(s, 0, '{', '}')?;
    Some((&s[1..end - 1], &s[end..]))
}

fn level_key(s: &str) -> Option<Vec<u64>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut v: Vec<u64> = s
        .split('.')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<Vec<_>>>()?;
    while v.len() < 3 {
        v.push(0);
    }
    Some(v)
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

    fn expand_into(&mut self, text: &str, buf: &mut String) {
        if self.depth >= MAX_DEPTH {
            self.fail("unreasonable macro call nesting");
            return;
        }
        self.depth += 1;
        self.expand_level(text, buf);
        self.depth -= 1;
    }

    fn expand_level(&mut self, text: &str, buf: &mut String) {
        let mut rest = text;
        while !self.stopped() {
            let Some(i) = rest.find('$') else {
                self.push(buf, rest);
                return;
            };
            self.push(buf, &rest[..i]);
            let after = &rest[i + 1..];
            match after.chars().next() {
                Some('$') => {
                    self.push(buf, "$");
                    rest = &after[1..];
                }
                Some(open @ ('{' | '(')) => {
                    let close = if open == '{' { '}' } else { ')' };
                    let Some(end) = matching(after, 0, open, close) else {
                        self.fail(format!("truncated macro reference: \"{}\"", short(rest)));
                        return;
                    };
                    let inner = &after[1..end - 1];
                    self.braced_ref(inner, buf);
                    rest = &after[end..];
                }
                Some(c) if is_name_char(c) => {
                    let end = after
                        .find(|c: char| !is_name_char(c))
                        .unwrap_or(after.len());
                    self.name_value(&after[..end], buf);
                    rest = &after[end..];
                }
                _ => {
                    self.fail(format!("empty macro name: \"{}\"", short(text)));
                    self.push(buf, "$");
                    rest = after;
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
        found.map(|f| f.0)
    }

    fn name_value(&mut self, name: &str, buf: &mut String) {
        if self.stack.iter().any(|n| n == name) {
            self.fail(format!(
                "unreasonable macro call nesting: \"{name}\" refers to itself"
            ));
            return;
        }
        if let Some(v) = self.raw(name) {
            self.stack.push(name.to_string());
            self.expand_into(&v, buf);
            self.stack.pop();
        }
    }

    /// The inside of `${...}` or `$(...)`.
    fn braced_ref(&mut self, inner: &str, buf: &mut String) {
        if inner.trim_start().starts_with('{') {
            return self.relational(inner, buf);
        }
        // White space around the name is allowed: `${ name }`.
        let inner = inner.trim_start();
        let end = inner
            .find(|c: char| !is_name_char(c))
            .unwrap_or(inner.len());
        let (name, rest) = inner.split_at(end);
        let rest = rest.trim_start();
        if name.is_empty() {
            return self.fail(format!(
                "attribute name syntax error at: \"{}\"",
                short(inner)
            ));
        }
        let mut chars = rest.chars();
        let op = chars.next();
        let cond = chars.as_str();
        match op {
            None => self.name_value(name, buf),
            Some(q @ ('?' | ':')) => {
                let raw = self.raw(name);
                let set = raw.as_deref().is_some_and(|v| !v.is_empty());
                let (when_true, when_false) = if cond.trim_start().starts_with('{') {
                    let Some((a, after)) = braced(cond) else {
                        return self.fail(format!("unbalanced {{ in \"{}\"", short(inner)));
                    };
                    let after = after.trim_start();
                    if after.is_empty() {
                        (Some(a), None)
                    } else if let (Some(rest), '?') = (after.strip_prefix(':'), q) {
                        // `{value2}`, or plain text to the end.
                        match braced(rest) {
                            Some((b, tail)) if tail.trim().is_empty() => (Some(a), Some(b)),
                            Some(_) => {
                                return self
                                    .fail(format!("unexpected input at: \"{}\"", short(after)))
                            }
                            None => (Some(a), Some(rest.trim_start())),
                        }
                    } else {
                        return self.fail(format!("\":\" expected at: \"{}\"", short(after)));
                    }
                } else {
                    (Some(cond), None)
                };
                let pick = if (q == '?') == set {
                    when_true
                } else {
                    when_false
                };
                if let Some(t) = pick {
                    self.expand_into(t, buf);
                }
            }
            Some(_) => self.fail(format!(
                "attribute name syntax error at: \"{}\"",
                short(inner)
            )),
        }
    }

    fn relational(&mut self, inner: &str, buf: &mut String) {
        let bad = |c: &mut Self| c.fail(format!("bad relational expression: \"{}\"", short(inner)));
        let Some((lhs, rest)) = braced(inner) else {
            return bad(self);
        };
        let rest = rest.trim_start();
        let op_end = rest
            .find(|c: char| c.is_whitespace() || c == '{')
            .unwrap_or(rest.len());
        let (op, rest) = rest.split_at(op_end);
        let Some((rhs, rest)) = braced(rest) else {
            return bad(self);
        };
        let Some(rest) = rest.trim_start().strip_prefix('?') else {
            return bad(self);
        };
        let Some((when_true, rest)) = braced(rest) else {
            return bad(self);
        };
        let rest = rest.trim_start();
        let when_false = if rest.is_empty() {
            None
        } else {
            match rest.strip_prefix(':').and_then(braced) {
                Some((f, tail)) if tail.trim().is_empty() => Some(f),
                _ => return bad(self),
            }
        };
        let mut l = String::new();
        let mut r = String::new();
        self.expand_into(lhs, &mut l);
        self.expand_into(rhs, &mut r);
        let result = match op {
            "==" => Some(l == r),
            "!=" => Some(l != r),
            "<" | "<=" | ">" | ">=" => match (l.trim().parse::<f64>(), r.trim().parse::<f64>()) {
                (Ok(a), Ok(b)) => Some(match op {
                    "<" => a < b,
                    "<=" => a <= b,
                    ">" => a > b,
                    _ => a >= b,
                }),
                _ => None,
            },
            _ => match (op.strip_suffix("level"), level_key(&l), level_key(&r)) {
                (Some(o), Some(a), Some(b)) => match o {
                    "==" => Some(a == b),
                    "!=" => Some(a != b),
                    "<" => Some(a < b),
                    "<=" => Some(a <= b),
                    ">" => Some(a > b),
                    ">=" => Some(a >= b),
                    _ => None,
                },
                _ => None,
            },
        };
        match result {
            Some(true) => self.expand_into(when_true, buf),
            Some(false) => {
                if let Some(f) = when_false {
                    self.expand_into(f, buf)
                }
            }
            None => bad(self),
        }
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
        let _ = x(&[("a", "1")], &deep);
    }
}
