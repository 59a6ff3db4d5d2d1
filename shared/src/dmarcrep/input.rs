//! Report files as they arrive: plain XML, gzip (`.xml.gz`, what RFC 7489
//! §7.2.1.1 asks for and Microsoft and Yahoo send) or zip (Google sends a
//! zip holding one XML file). The format is told by the first bytes, never
//! by the file name, so a misnamed attachment still opens and a renamed
//! executable does not.
//!
//! Decompression runs through `flate2` (pure-Rust miniz_oxide backend) and
//! the `zip` crate (deflate and stored entries only), both built for
//! wasm32 too. Every decompressed stream is read through a cap
//! ([`MAX_DECOMPRESSED`] for the whole file, archive entries included), so
//! a compression bomb stops at the cap and the file is rejected; a gzip
//! stream that ends early or fails its CRC is rejected too. An archive
//! with a damaged entry is rejected whole: a file that cannot be trusted
//! whole contributes no rows.

use std::borrow::Cow;
use std::io::{Cursor, Read};
use thiserror::Error;

/// Most bytes a file may decompress to (all its archive entries together).
/// The largest real aggregate reports (big receivers, busy domains) are a
/// few MiB of XML.
pub const MAX_DECOMPRESSED: u64 = 64 * 1024 * 1024;

/// Most entries a zip archive may hold (reporters send one).
pub const MAX_ARCHIVE_ENTRIES: usize = 32;

/// How deep archives may nest (a zip holding `.xml.gz` files is seen in the
/// wild; deeper nesting is not).
const MAX_NESTING: u8 = 2;

/// What the first bytes say a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Gzip,
    Zip,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Xml => "xml",
            Format::Gzip => "gzip",
            Format::Zip => "zip",
        }
    }
}

/// Why a file contributes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    #[error("the file is empty")]
    Empty,
    #[error("not a DMARC aggregate report: neither XML, gzip nor zip")]
    Unknown,
    #[error("the gzip data is damaged or truncated ({0})")]
    Gzip(String),
    #[error("the zip archive is damaged or unsupported ({0})")]
    Zip(String),
    #[error("the zip archive holds no file")]
    EmptyArchive,
    #[error("the zip archive holds more than {0} files")]
    TooManyEntries(usize),
    #[error("archives are nested more than {0} deep")]
    Nested(u8),
    #[error(
        "it decompresses to more than {} MiB (the cap against compression bombs)",
        .0 / (1024 * 1024)
    )]
    TooLarge(u64),
    #[error("it has a DOCTYPE declaration: DTDs and entities are never processed")]
    Doctype,
    #[error("it uses the entity &{0}; (only XML's predefined entities and character references are accepted)")]
    Entity(String),
    #[error("it is not well-formed XML (line {line}): {message}")]
    Malformed { line: u32, message: String },
    #[error("its XML ends before the document is complete (truncated)")]
    Truncated,
    #[error("its root element is <{0}>, not <feedback>: not a DMARC aggregate report")]
    NotFeedback(String),
    #[error("it lacks the required <{0}>")]
    Missing(&'static str),
    #[error("<{field}> at line {line} is invalid: {value:?}")]
    Invalid {
        field: &'static str,
        line: u32,
        value: String,
    },
    #[error("<{field}> appears twice (line {line})")]
    Repeated { field: &'static str, line: u32 },
    #[error("elements nest deeper than {0} levels")]
    TooDeep(usize),
    #[error("in {entry}: {inner}")]
    InEntry {
        entry: String,
        inner: Box<Rejection>,
    },
}

/// One XML document to parse: a plain file, a gunzipped file, or one entry
/// of an archive (named `archive.zip:entry.xml`).
#[derive(Debug, Clone)]
pub struct Document<'a> {
    pub name: String,
    pub bytes: Cow<'a, [u8]>,
}

/// Tells the format from the first bytes: gzip (`1f 8b`), zip (a local file
/// header `PK\x03\x04`, or `PK\x05\x06` for an empty archive), or XML
/// (`<` after an optional byte order mark and white space).
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(Format::Gzip);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(Format::Zip);
    }
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        // UTF-16 with a byte order mark: the first character decides.
        let first = if bytes.first() == Some(&0xff) {
            bytes.get(2..4).map(|c| u16::from_le_bytes([c[0], c[1]]))
        } else {
            bytes.get(2..4).map(|c| u16::from_be_bytes([c[0], c[1]]))
        };
        return matches!(first, Some(0x3c)).then_some(Format::Xml);
    }
    let rest = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let rest = trim_ascii_start(rest);
    rest.starts_with(b"<").then_some(Format::Xml)
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or(&[])
}

/// Whether the bytes look like a DMARC aggregate report (for hosts that
/// route input by content, e.g. `mailaudit config`): gzip or zip, or XML
/// whose first 4 KiB hold a `feedback` start tag. Cheap; not a validation.
pub fn looks_like_report(bytes: &[u8]) -> bool {
    match sniff(bytes) {
        Some(Format::Gzip | Format::Zip) => true,
        Some(Format::Xml) => {
            let head = bytes.get(..4096).unwrap_or(bytes);
            let text = String::from_utf8_lossy(head);
            text.contains("<feedback") || text.contains(":feedback")
        }
        None => false,
    }
}

/// Opens one file: the XML documents it holds, or why it cannot be used.
pub fn open<'a>(name: &str, bytes: &'a [u8]) -> Result<Vec<Document<'a>>, Rejection> {
    let mut budget = MAX_DECOMPRESSED;
    let mut out = Vec::new();
    open_into(name, Cow::Borrowed(bytes), 0, &mut budget, &mut out)?;
    Ok(out)
}

fn open_into<'a>(
    name: &str,
    bytes: Cow<'a, [u8]>,
    depth: u8,
    budget: &mut u64,
    out: &mut Vec<Document<'a>>,
) -> Result<(), Rejection> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Rejection::Empty);
    }
    match sniff(&bytes).ok_or(Rejection::Unknown)? {
        Format::Xml => {
            out.push(Document {
                name: name.to_string(),
                bytes,
            });
            Ok(())
        }
        Format::Gzip => {
            if depth >= MAX_NESTING {
                return Err(Rejection::Nested(MAX_NESTING));
            }
            let inner = gunzip(&bytes, budget)?;
            let inner_name = name
                .strip_suffix(".gz")
                .filter(|n| !n.is_empty())
                .unwrap_or(name);
            open_into(inner_name, Cow::Owned(inner), depth + 1, budget, out)
        }
        Format::Zip => {
            if depth >= MAX_NESTING {
                return Err(Rejection::Nested(MAX_NESTING));
            }
            unzip(name, &bytes, depth, budget, out)
        }
    }
}

/// Reads at most `budget` bytes from a decompressor; more is a bomb.
fn read_capped(mut r: impl Read, budget: &mut u64) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    let cap = *budget;
    (&mut r).take(cap.saturating_add(1)).read_to_end(&mut out)?;
    let n = out.len() as u64;
    if n > cap {
        return Err(std::io::Error::other(CapExceeded));
    }
    *budget -= n;
    Ok(out)
}

/// Marker error for [`read_capped`].
#[derive(Debug)]
struct CapExceeded;

impl std::fmt::Display for CapExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("decompression cap exceeded")
    }
}

impl std::error::Error for CapExceeded {}

fn is_cap(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<CapExceeded>())
}

fn gunzip(bytes: &[u8], budget: &mut u64) -> Result<Vec<u8>, Rejection> {
    // Multi-member streams are legal gzip (RFC 1952 §2.2); every member's
    // CRC and length are checked, and a stream that stops early is an error.
    let decoder = flate2::read::MultiGzDecoder::new(bytes);
    read_capped(decoder, budget).map_err(|e| {
        if is_cap(&e) {
            Rejection::TooLarge(MAX_DECOMPRESSED)
        } else {
            Rejection::Gzip(e.to_string())
        }
    })
}

fn unzip<'a>(
    name: &str,
    bytes: &[u8],
    depth: u8,
    budget: &mut u64,
    out: &mut Vec<Document<'a>>,
) -> Result<(), Rejection> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| Rejection::Zip(e.to_string()))?;
    if archive.len() > MAX_ARCHIVE_ENTRIES {
        return Err(Rejection::TooManyEntries(MAX_ARCHIVE_ENTRIES));
    }
    let before = out.len();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| Rejection::Zip(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let entry_name = display_entry_name(entry.name_raw());
        let full = format!("{name}:{entry_name}");
        let data = read_capped(&mut entry, budget).map_err(|e| {
            if is_cap(&e) {
                Rejection::TooLarge(MAX_DECOMPRESSED)
            } else {
                Rejection::InEntry {
                    entry: entry_name.clone(),
                    inner: Box::new(Rejection::Zip(e.to_string())),
                }
            }
        })?;
        drop(entry);
        open_into(&full, Cow::Owned(data), depth + 1, budget, out).map_err(
            |inner| match inner {
                Rejection::TooLarge(_) | Rejection::InEntry { .. } => inner,
                other => Rejection::InEntry {
                    entry: entry_name,
                    inner: Box::new(other),
                },
            },
        )?;
    }
    if out.len() == before {
        return Err(Rejection::EmptyArchive);
    }
    Ok(())
}

/// An entry name for messages: its last path component, lossy UTF-8,
/// control characters replaced, at most 200 characters.
fn display_entry_name(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let base = s.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .take(200)
        .collect();
    if clean.is_empty() {
        "(unnamed)".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn sniffs_by_content() {
        assert_eq!(
            sniff(b"<?xml version='1.0'?><feedback/>"),
            Some(Format::Xml)
        );
        assert_eq!(sniff(b"\xef\xbb\xbf  \n<feedback/>"), Some(Format::Xml));
        assert_eq!(sniff(&gz(b"<feedback/>")), Some(Format::Gzip));
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Format::Zip));
        assert_eq!(sniff(b"\xff\xfe<\x00f\x00"), Some(Format::Xml));
        assert_eq!(sniff(b"mynetworks = 0.0.0.0/0"), None);
        assert_eq!(sniff(b""), None);
        assert!(looks_like_report(b"<?xml version=\"1.0\"?>\n<feedback>"));
        assert!(!looks_like_report(b"<html><body>"));
        assert!(!looks_like_report(b"myhostname = x"));
    }

    #[test]
    fn gzip_round_trip_and_truncation() {
        let data = gz(b"<feedback></feedback>");
        let docs = open("a.xml.gz", &data).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].name, "a.xml");
        assert_eq!(&*docs[0].bytes, b"<feedback></feedback>");
        for cut in [data.len() - 1, data.len() - 8, data.len() / 2, 11] {
            let r = open("a.xml.gz", &data[..cut]);
            assert!(matches!(r, Err(Rejection::Gzip(_))), "cut at {cut}: {r:?}");
        }
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        // 65 MiB of zeros compress to about 65 KiB.
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..65 {
            e.write_all(&chunk).unwrap();
        }
        let bomb = e.finish().unwrap();
        assert!(bomb.len() < 200_000);
        assert_eq!(
            open("bomb.xml.gz", &bomb).unwrap_err(),
            Rejection::TooLarge(MAX_DECOMPRESSED)
        );
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_entries_and_nesting() {
        let z = zip_of(&[("r.xml", b"<feedback/>"), ("s.xml.gz", &gz(b"<feedback/>"))]);
        let docs = open("a.zip", &z).unwrap();
        let names: Vec<&str> = docs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a.zip:r.xml", "a.zip:s.xml"]);
        // One bad entry rejects the archive.
        let bad = zip_of(&[("r.xml", b"<feedback/>"), ("x.bin", b"\x00\x01")]);
        assert_eq!(
            open("b.zip", &bad).unwrap_err(),
            Rejection::InEntry {
                entry: "x.bin".into(),
                inner: Box::new(Rejection::Unknown)
            }
        );
        // A zip in a zip in a zip is too deep.
        let inner = zip_of(&[("r.xml", b"<feedback/>")]);
        let middle = zip_of(&[("in.zip", &inner)]);
        let outer = zip_of(&[("mid.zip", &middle)]);
        assert!(open("ok.zip", &middle).is_ok());
        assert!(matches!(
            open("deep.zip", &outer).unwrap_err(),
            Rejection::InEntry { inner, .. } if *inner == Rejection::Nested(MAX_NESTING)
        ));
        assert_eq!(
            open("e.zip", &zip_of(&[])).unwrap_err(),
            Rejection::EmptyArchive
        );
        let mut cut = z.clone();
        cut.truncate(z.len() / 2);
        assert!(matches!(
            open("cut.zip", &cut).unwrap_err(),
            Rejection::Zip(_)
        ));
    }

    #[test]
    fn zip_bomb_stops_at_the_cap() {
        // Several entries of 20 MiB of XML white space each: each is under
        // the cap, together they are over it.
        let mut zeros = b"<feedback>".to_vec();
        zeros.resize(20 << 20, b' ');
        let z = zip_of(&[
            ("a.xml", &zeros),
            ("b.xml", &zeros),
            ("c.xml", &zeros),
            ("d.xml", &zeros),
        ]);
        assert!(z.len() < 200_000, "{}", z.len());
        assert_eq!(
            open("bomb.zip", &z).unwrap_err(),
            Rejection::TooLarge(MAX_DECOMPRESSED)
        );
    }

    #[test]
    fn empty_and_unknown() {
        assert_eq!(open("x", b"").unwrap_err(), Rejection::Empty);
        assert_eq!(open("x", b"  \n").unwrap_err(), Rejection::Empty);
        assert_eq!(open("x", b"%PDF-1.7").unwrap_err(), Rejection::Unknown);
        assert_eq!(open("x", &gz(b"MZ\x90")).unwrap_err(), Rejection::Unknown);
    }

    #[test]
    fn entry_names_are_cleaned() {
        assert_eq!(
            display_entry_name(b"dir/../a\x1b[31m.xml"),
            "a\u{fffd}[31m.xml"
        );
        assert_eq!(display_entry_name(b"dir/"), "(unnamed)");
    }
}
