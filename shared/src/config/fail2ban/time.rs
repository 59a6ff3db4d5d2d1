//! fail2ban time values (`MyTime.str2seconds`): plain seconds, numbers with
//! units (`10m`, `1h`, `1d`, `1w`, `1mo`, `1y`, long forms such as
//! `30 minutes`), several parts summed (`1h30m`, `1d 12h`), and the
//! arithmetic fail2ban then evaluates (`1h+30m`, `1y-6mo`, `2*1h`). A
//! negative `bantime` bans for ever.
//!
//! fail2ban rewrites the units to multiplications and hands the text to
//! Python's `eval`; this is the subset of that grammar real configurations
//! use, evaluated without `eval`: numbers, units, `+ - * /`, unary minus,
//! and juxtaposition meaning `+`.

/// Seconds, or None when the text is not a time fail2ban would accept.
pub fn seconds(text: &str) -> Option<f64> {
    let toks = tokens(text)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
    };
    let v = p.sum()?;
    (p.pos == toks.len() && v.is_finite()).then_some(v)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Num(f64),
    Op(u8),
}

/// Seconds per unit word (fail2ban's abbreviations, case-insensitive).
fn unit(word: &str) -> Option<f64> {
    const DAY: f64 = 86_400.0;
    const YEAR: f64 = (365.0 * 3.0 + 366.0) * DAY / 4.0;
    Some(match word.to_ascii_lowercase().as_str() {
        "d" | "dd" | "da" | "day" | "days" => DAY,
        "w" | "ww" | "we" | "wee" | "week" | "weeks" => 7.0 * DAY,
        "mo" | "mon" | "month" | "months" => YEAR / 12.0,
        "y" | "yy" | "ye" | "yea" | "year" | "years" => YEAR,
        "s" | "ss" | "se" | "sec" | "second" | "seconds" => 1.0,
        "m" | "mm" | "mi" | "min" | "minute" | "minutes" => 60.0,
        "h" | "hh" | "ho" | "hou" | "hour" | "hours" => 3600.0,
        _ => return None,
    })
}

/// Numbers (a unit folded in), operators; juxtaposed numbers get a `+`.
fn tokens(text: &str) -> Option<Vec<Tok>> {
    let b = text.as_bytes();
    if b.len() > 256 {
        return None;
    }
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || c == b'.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let mut n: f64 = text.get(start..i)?.parse().ok()?;
            // Optional white space, then a unit word.
            let mut j = i;
            while j < b.len() && b[j] == b' ' {
                j += 1;
            }
            let ws = j;
            while j < b.len() && b[j].is_ascii_alphabetic() {
                j += 1;
            }
            if j > ws {
                n *= unit(text.get(ws..j)?)?;
                i = j;
            }
            if matches!(out.last(), Some(Tok::Num(_))) {
                out.push(Tok::Op(b'+'));
            }
            out.push(Tok::Num(n));
            continue;
        }
        if matches!(c, b'+' | b'-' | b'*' | b'/') {
            out.push(Tok::Op(c));
            i += 1;
            continue;
        }
        return None;
    }
    (!out.is_empty()).then_some(out)
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).copied()
    }

    fn sum(&mut self) -> Option<f64> {
        let mut v = self.product()?;
        while let Some(Tok::Op(op @ (b'+' | b'-'))) = self.peek() {
            self.pos += 1;
            let r = self.product()?;
            v = if op == b'+' { v + r } else { v - r };
        }
        Some(v)
    }

    fn product(&mut self) -> Option<f64> {
        let mut v = self.unary(0)?;
        while let Some(Tok::Op(op @ (b'*' | b'/'))) = self.peek() {
            self.pos += 1;
            let r = self.unary(0)?;
            v = if op == b'*' { v * r } else { v / r };
        }
        Some(v)
    }

    fn unary(&mut self, depth: usize) -> Option<f64> {
        if depth > 16 {
            return None;
        }
        match self.peek()? {
            Tok::Op(b'-') => {
                self.pos += 1;
                Some(-self.unary(depth + 1)?)
            }
            Tok::Op(b'+') => {
                self.pos += 1;
                self.unary(depth + 1)
            }
            Tok::Num(n) => {
                self.pos += 1;
                Some(n)
            }
            Tok::Op(_) => None,
        }
    }
}

/// `3600` → `1h`, `5400` → `1h 30m`, `-1` → `permanent`.
pub fn human(secs: f64) -> String {
    if secs < 0.0 {
        return "permanent (negative)".into();
    }
    let mut s = secs.round() as u64;
    if s == 0 {
        return "0s".into();
    }
    let mut parts = Vec::new();
    for (unit, n) in [
        ("w", 604_800),
        ("d", 86_400),
        ("h", 3600),
        ("m", 60),
        ("s", 1),
    ] {
        if s >= n {
            parts.push(format!("{}{unit}", s / n));
            s %= n;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_as_fail2ban() {
        for (t, want) in [
            ("600", 600.0),
            ("10m", 600.0),
            ("1h", 3600.0),
            ("1d", 86_400.0),
            ("1w", 604_800.0),
            ("1h30m", 5400.0),
            ("1h 30m", 5400.0),
            ("0d 1h 30m", 5400.0),
            ("1hour+30min", 5400.0),
            ("30 minutes", 1800.0),
            ("2*1h", 7200.0),
            ("1y-6mo", 15_778_800.0),
            ("6 months", 15_778_800.0),
            ("-1", -1.0),
            ("1.5h", 5400.0),
            ("10M", 600.0),
        ] {
            assert_eq!(seconds(t), Some(want), "{t}");
        }
        for t in ["", "abc", "10x", "1h+", "((1))", "1e", "--", "1 2 3 q"] {
            assert_eq!(seconds(t), None, "{t}");
        }
        assert_eq!(seconds(&"-".repeat(100)), None);
    }

    #[test]
    fn human_form() {
        assert_eq!(human(3600.0), "1h");
        assert_eq!(human(5400.0), "1h 30m");
        assert_eq!(human(-1.0), "permanent (negative)");
        assert_eq!(human(600.0), "10m");
    }
}
