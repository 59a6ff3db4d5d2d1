//! Mail logs through the CLI without loading them whole: the head of each
//! input (64 KiB) is recognised with the same detection `config` uses; when
//! every input is a mail log (or `--software logs`), the files are streamed
//! through `mailaudit_core::logs::LogAnalyzer` in 1 MiB chunks, so a 200 MB
//! log costs a few MB of memory. Anything else returns the bytes read so
//! far and the caller reads the rest as before.

use mailaudit_core::config::{recognise, Input, Software};
use mailaudit_core::logs::{LogAnalyzer, LogOptions, LogStats};
use mailaudit_core::Report;
use std::fs::File;
use std::io::{self, Read};

const HEAD: usize = 64 * 1024;
const CHUNK: usize = 1 << 20;

/// An input opened for reading, with the head already read.
pub struct Opened {
    pub name: String,
    pub head: Vec<u8>,
    reader: Box<dyn Read>,
}

fn read_up_to(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Opens the inputs (`-` or nothing: standard input) and reads their heads.
pub fn open(files: &[String]) -> Result<Vec<Opened>, String> {
    let names: Vec<String> = if files.is_empty() {
        vec!["-".into()]
    } else {
        files.to_vec()
    };
    let mut out = Vec::new();
    for name in names {
        let (display, mut reader): (String, Box<dyn Read>) = if name == "-" {
            ("stdin".into(), Box::new(io::stdin()))
        } else {
            let f = File::open(&name).map_err(|e| format!("cannot read {name}: {e}"))?;
            (name.clone(), Box::new(f))
        };
        let head =
            read_up_to(&mut reader, HEAD).map_err(|e| format!("cannot read {display}: {e}"))?;
        out.push(Opened {
            name: display,
            head,
            reader,
        });
    }
    Ok(out)
}

/// Whether every input is a mail log, judged on its head.
pub fn all_logs(inputs: &[Opened], forced: Option<Software>) -> bool {
    if let Some(sw) = forced {
        return sw == Software::Logs;
    }
    !inputs.is_empty()
        && inputs.iter().all(|i| {
            // Up to the last complete line.
            let end = i
                .head
                .iter()
                .rposition(|&b| b == b'\n')
                .map(|p| p + 1)
                .unwrap_or(i.head.len());
            let text = String::from_utf8_lossy(&i.head[..end]);
            let d = recognise(&[Input::new(i.name.clone(), text)], None);
            !d.is_empty() && d.iter().all(|d| d.software == Software::Logs)
        })
}

/// Reads the rest of every input into memory (the non-log path): the names
/// to show and the bytes.
pub fn read_all(inputs: Vec<Opened>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    for mut i in inputs {
        let mut bytes = i.head;
        i.reader
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read {}: {e}", i.name))?;
        out.push((i.name, bytes));
    }
    Ok(out)
}

/// Streams every input through one analyser.
pub fn analyse(inputs: Vec<Opened>, now: &str) -> Result<(Report, LogStats), String> {
    let target = inputs
        .iter()
        .map(|i| i.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let mut a = LogAnalyzer::new(LogOptions {
        now: now.to_string(),
        ..Default::default()
    });
    let mut buf = vec![0u8; CHUNK];
    for mut i in inputs {
        a.begin_file(&i.name);
        a.feed(&i.head);
        loop {
            let n = match i.reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("cannot read {}: {e}", i.name)),
            };
            a.feed(&buf[..n]);
        }
    }
    Ok(a.finish_report(&target))
}
