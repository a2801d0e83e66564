//! The bytes of the export log: fixed-size index entries and the body records they point
//! to.
//!
//! `index.dat` is an array of [`ENTRY_LEN`]-byte entries, little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 0..16 | key: the first 16 bytes of SHA-256 of the instance id (of `id/version` for a published questionnaire) |
//! | 16..24 | offset of the body record in `bodies.dat` |
//! | 24..28 | length of the body record |
//! | 28..32 | the entry this one supersedes (the interview's previous state), or `u32::MAX` |
//! | 32..40 | first 8 bytes of SHA-256 of the questionnaire id |
//! | 40..48 | when the latest revision arrived (ms since the epoch) |
//! | 48..56 | the journal transaction that wrote the entry |
//! | 56 | kind: 1 interview, 2 published questionnaire version |
//! | 57 | interview status (index in `InterviewStatus::ALL`) |
//! | 58..62 | latest revision number |
//! | 62..64 | magic `0xC5 0x01` |
//!
//! An interview body record is four length-prefixed strings (instance id, enumerator,
//! questionnaire, version) and two length-prefixed JSON documents (the submitted content and
//! the calculations), lengths as `u32`. A published body record is the length-prefixed key
//! `id/version` followed by the stored record (a JSON envelope, see `codec.rs`).

use std::ops::Range;

use sha2::{Digest, Sha256};

use crate::store::Error;
use crate::store::status::InterviewStatus;

/// Bytes per index entry.
pub const ENTRY_LEN: usize = 64;
/// `prev` of an entry that supersedes nothing.
pub const NO_ENTRY: u32 = u32::MAX;
const MAGIC: [u8; 2] = [0xC5, 0x01];

/// What an entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Interview = 1,
    Published = 2,
}

/// One index entry (see the module docs for its bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub key: [u8; 16],
    pub body: u64,
    pub body_len: u32,
    pub prev: u32,
    pub questionnaire: u64,
    pub received_at_ms: i64,
    pub tx: u64,
    pub kind: Kind,
    pub status: InterviewStatus,
    pub revision: u32,
}

impl Entry {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.key);
        out.extend_from_slice(&self.body.to_le_bytes());
        out.extend_from_slice(&self.body_len.to_le_bytes());
        out.extend_from_slice(&self.prev.to_le_bytes());
        out.extend_from_slice(&self.questionnaire.to_le_bytes());
        out.extend_from_slice(&self.received_at_ms.to_le_bytes());
        out.extend_from_slice(&self.tx.to_le_bytes());
        out.push(self.kind as u8);
        out.push(status_code(self.status));
        out.extend_from_slice(&self.revision.to_le_bytes());
        out.extend_from_slice(&MAGIC);
    }

    /// Decodes entry number `n` (for the error message) from exactly [`ENTRY_LEN`] bytes.
    pub fn decode(n: u64, bytes: &[u8]) -> Result<Entry, Error> {
        let bad = |reason: &str| corrupt(format!("entry {n}: {reason}"));
        if bytes.len() != ENTRY_LEN || bytes[62..64] != MAGIC {
            return Err(bad("not an entry (bad length or magic)"));
        }
        let u32_at = |at: usize| u32_le(bytes, at).unwrap_or_default();
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let mut key = [0u8; 16];
        key.copy_from_slice(&bytes[..16]);
        let kind = match bytes[56] {
            1 => Kind::Interview,
            2 => Kind::Published,
            other => return Err(bad(&format!("unknown kind {other}"))),
        };
        let status = *InterviewStatus::ALL
            .get(usize::from(bytes[57]))
            .ok_or_else(|| bad(&format!("unknown status {}", bytes[57])))?;
        Ok(Entry {
            key,
            body: u64_at(16),
            body_len: u32_at(24),
            prev: u32_at(28),
            questionnaire: u64_at(32),
            received_at_ms: u64_at(40) as i64,
            tx: u64_at(48),
            kind,
            status,
            revision: u32_at(58),
        })
    }
}

fn status_code(status: InterviewStatus) -> u8 {
    InterviewStatus::ALL
        .iter()
        .position(|s| *s == status)
        .unwrap_or_default() as u8
}

pub fn corrupt(reason: String) -> Error {
    Error::Corrupt {
        tree: "export log",
        key: String::new(),
        reason,
    }
}

/// The index key of an instance id (or of a published `id/version`).
pub fn key16(text: &str) -> [u8; 16] {
    let digest = Sha256::digest(text.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// The questionnaire key of an entry.
pub fn questionnaire_key(id: &str) -> u64 {
    let digest = Sha256::digest(id.as_bytes());
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(key)
}

/// The fields of an interview body record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterviewBody<'a> {
    pub instance_id: &'a str,
    pub enumerator: &'a str,
    pub questionnaire: &'a str,
    pub version: &'a str,
    pub content: &'a [u8],
    pub calculations: &'a [u8],
}

/// Where the fields of an interview body record are, relative to the record's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRanges {
    pub instance_id: Range<usize>,
    pub enumerator: Range<usize>,
    pub questionnaire: Range<usize>,
    pub version: Range<usize>,
    pub content: Range<usize>,
    pub calculations: Range<usize>,
}

impl InterviewBody<'_> {
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        for part in [
            self.instance_id.as_bytes(),
            self.enumerator.as_bytes(),
            self.questionnaire.as_bytes(),
            self.version.as_bytes(),
            self.content,
            self.calculations,
        ] {
            put_part(out, part)?;
        }
        Ok(())
    }
}

/// Locates the six parts of an interview body record (checking that the strings are
/// UTF-8, so the caller may slice them as `str` without another check).
pub fn body_ranges(record: &[u8]) -> Result<BodyRanges, Error> {
    let mut at = 0usize;
    let mut next = || -> Result<Range<usize>, Error> {
        let len = u32_le(record, at).ok_or_else(|| {
            corrupt(format!(
                "body record of {} bytes is cut short",
                record.len()
            ))
        })?;
        let len = len as usize;
        let start = at + 4;
        let end = start
            .checked_add(len)
            .filter(|end| *end <= record.len())
            .ok_or_else(|| {
                corrupt(format!(
                    "body record of {} bytes is cut short",
                    record.len()
                ))
            })?;
        at = end;
        Ok(start..end)
    };
    let ranges = BodyRanges {
        instance_id: next()?,
        enumerator: next()?,
        questionnaire: next()?,
        version: next()?,
        content: next()?,
        calculations: next()?,
    };
    for range in [
        &ranges.instance_id,
        &ranges.enumerator,
        &ranges.questionnaire,
        &ranges.version,
    ] {
        std::str::from_utf8(&record[range.clone()])
            .map_err(|_| corrupt("a body record's text is not UTF-8".into()))?;
    }
    Ok(ranges)
}

/// A published body record: the key and the stored record.
pub fn encode_published(key: &str, value: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    put_part(out, key.as_bytes())?;
    out.extend_from_slice(value);
    Ok(())
}

/// Splits a published body record into its key and stored record.
pub fn decode_published(record: &[u8]) -> Result<(&str, &[u8]), Error> {
    let cut = || corrupt("a published record is cut short".into());
    let len = u32_le(record, 0).ok_or_else(cut)? as usize;
    let key = record.get(4..4 + len).ok_or_else(cut)?;
    let key =
        std::str::from_utf8(key).map_err(|_| corrupt("a published key is not UTF-8".into()))?;
    Ok((key, &record[4 + len..]))
}

/// The little-endian `u32` at byte `at`, if the bytes are there.
fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
}

fn put_part(out: &mut Vec<u8>, part: &[u8]) -> Result<(), Error> {
    let len = u32::try_from(part.len()).map_err(|_| {
        Error::Invalid(format!(
            "a stored document of {} bytes is too large",
            part.len()
        ))
    })?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(part);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_bodies_round_trip() {
        let entry = Entry {
            key: key16("8e1f3c2a-0000-4000-8000-000000000001"),
            body: 1 << 40,
            body_len: 3071,
            prev: 17,
            questionnaire: questionnaire_key("dwscs-worker"),
            received_at_ms: -5,
            tx: 99,
            kind: Kind::Interview,
            status: InterviewStatus::ALL[2],
            revision: 3,
        };
        let mut bytes = Vec::new();
        entry.encode(&mut bytes);
        assert_eq!(bytes.len(), ENTRY_LEN);
        assert_eq!(Entry::decode(0, &bytes).unwrap(), entry);
        // A zeroed entry (what a power failure can leave) is refused, not misread.
        assert!(Entry::decode(0, &[0u8; ENTRY_LEN]).is_err());

        let body = InterviewBody {
            instance_id: "i",
            enumerator: "lan",
            questionnaire: "q",
            version: "2026-01",
            content: br#"{"answers":{}}"#,
            calculations: b"{}",
        };
        let mut record = Vec::new();
        body.encode(&mut record).unwrap();
        let ranges = body_ranges(&record).unwrap();
        assert_eq!(&record[ranges.enumerator.clone()], b"lan");
        assert_eq!(&record[ranges.content.clone()], br#"{"answers":{}}"#);
        assert_eq!(&record[ranges.calculations.clone()], b"{}");
        assert!(body_ranges(&record[..record.len() - 1]).is_err());

        let mut published = Vec::new();
        encode_published("q/1", b"{\"v\":1}", &mut published).unwrap();
        assert_eq!(
            decode_published(&published).unwrap(),
            ("q/1", &b"{\"v\":1}"[..])
        );
    }
}
