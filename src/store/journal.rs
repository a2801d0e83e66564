//! The append-only journal: one JSON line per acknowledged write transaction.
//!
//! A line is `{"tx": N, "w": [{"t": tree, "k": key, "v": value-or-null}, …]}` where `v` is the
//! stored value itself (a JSON envelope, see `codec.rs`), written byte for byte, so replaying
//! the journal into an empty database reproduces the database exactly. The journal is written
//! and fsynced by the group committer *before* sled is flushed, which makes it the
//! write-ahead log: on open, lines that sled does not yet hold are redone; `recover` replays
//! it all into a fresh database when sled itself is damaged.
//!
//! It deliberately holds no secrets beyond what sled holds (token and password hashes).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write as _};
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::store::Error;
use crate::store::tree::TreeId;

/// One key write inside a transaction: a put (`Some`) or a removal (`None`).
#[derive(Debug, Clone)]
pub struct Write {
    pub tree: TreeId,
    pub key: String,
    pub value: Option<Vec<u8>>,
}

/// A parsed journal line.
#[derive(Debug, Deserialize)]
pub struct Line {
    pub tx: u64,
    pub w: Vec<LineWrite>,
}

/// A parsed write of a journal line.
#[derive(Debug, Deserialize)]
pub struct LineWrite {
    pub t: String,
    pub k: String,
    pub v: Option<Box<RawValue>>,
}

/// The writes of a parsed journal line.
pub fn line_writes(line: &Line) -> Result<Vec<Write>, Error> {
    line.w
        .iter()
        .map(|w| {
            let tree = TreeId::from_name(&w.t).ok_or_else(|| Error::Corrupt {
                tree: "journal",
                key: format!("tx {}", line.tx),
                reason: format!("unknown tree {:?}", w.t),
            })?;
            Ok(Write {
                tree,
                key: w.k.clone(),
                value: w.v.as_ref().map(|raw| raw.get().as_bytes().to_vec()),
            })
        })
        .collect()
}

/// Renders one transaction as a journal line, newline included.
pub fn render(tx: u64, writes: &[Write]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        64 + writes
            .iter()
            .map(|w| w.key.len() + w.value.as_ref().map_or(4, Vec::len) + 32)
            .sum::<usize>(),
    );
    out.extend_from_slice(b"{\"tx\":");
    out.extend_from_slice(tx.to_string().as_bytes());
    out.extend_from_slice(b",\"w\":[");
    for (i, write) in writes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"t\":\"");
        out.extend_from_slice(write.tree.name().as_bytes());
        out.extend_from_slice(b"\",\"k\":");
        // A String always serializes.
        out.extend_from_slice(
            serde_json::to_string(&write.key)
                .unwrap_or_default()
                .as_bytes(),
        );
        out.extend_from_slice(b",\"v\":");
        match &write.value {
            // Stored values are JSON produced by `codec::encode`, so they embed verbatim.
            Some(value) => out.extend_from_slice(value),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}\n");
    out
}

/// Opens the journal for appending, creating it if needed, after cutting off a torn last
/// line (a crash in the middle of a write leaves bytes after the last newline; they belong
/// to a batch that was never acknowledged). Returns the file and its length.
pub fn open_for_append(path: &Path) -> Result<(File, u64), Error> {
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("open journal", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io("stat journal", path, e))?
        .len();
    let good_len =
        complete_prefix_len(&mut file, len).map_err(|e| Error::io("read journal", path, e))?;
    if good_len != len {
        tracing::warn!(
            path = %path.display(),
            dropped_bytes = len - good_len,
            "cutting a torn last line off the journal"
        );
        file.set_len(good_len)
            .map_err(|e| Error::io("truncate journal", path, e))?;
        file.sync_all()
            .map_err(|e| Error::io("fsync journal", path, e))?;
    }
    Ok((file, good_len))
}

/// The length of the journal up to and including its last newline.
fn complete_prefix_len(file: &mut File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(pos) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + pos as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Calls `apply(line, start_offset, end_offset)` for every line from byte `offset` on.
pub fn for_each_line(
    path: &Path,
    offset: u64,
    mut apply: impl FnMut(Line, u64, u64) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && offset == 0 => return Ok(()),
        Err(e) => return Err(Error::io("open journal", path, e)),
    };
    let len = file
        .metadata()
        .map_err(|e| Error::io("stat journal", path, e))?
        .len();
    if offset > len {
        return Err(Error::Journal {
            path: path.to_path_buf(),
            line: 0,
            reason: format!(
                "the database has applied the journal up to byte {offset} but the journal has only {len} bytes; \
                 the journal was truncated or replaced"
            ),
        });
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io("seek journal", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut position = offset;
    let mut line_no = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io("read journal", path, e))?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        if buf.last() != Some(&b'\n') {
            // A torn tail: never acknowledged, and cut off at the next open for append.
            return Ok(());
        }
        let line: Line = serde_json::from_slice(&buf).map_err(|err| Error::Journal {
            path: path.to_path_buf(),
            line: line_no,
            reason: err.to_string(),
        })?;
        let start = position;
        position += n as u64;
        apply(line, start, position)?;
    }
}

/// Appends a line (not yet durable: the group committer syncs the file).
pub fn append(file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    file.write_all(bytes)
}
