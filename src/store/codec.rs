//! How typed values become bytes in sled: a small JSON envelope carrying a format version.
//!
//! Every stored value is `{"v": FORMAT_VERSION, "d": <the record>}`. A reader that finds a
//! higher version than it knows refuses the value instead of misreading it; an older version
//! is upgraded lazily by the record's own decoder when a migration is ever needed.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::Error;
use crate::store::tree::TreeId;

/// The format version written with every value.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct EnvelopeOut<'a, T> {
    v: u32,
    d: &'a T,
}

#[derive(serde::Deserialize)]
struct EnvelopeIn<T> {
    v: u32,
    d: T,
}

/// Encodes a record with the current format version.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain structs to a Vec cannot fail (no maps with non-string keys,
    // no I/O), so an error here is a programming error worth a loud message.
    serde_json::to_vec(&EnvelopeOut {
        v: FORMAT_VERSION,
        d: value,
    })
    .unwrap_or_else(|err| panic!("encoding a stored record failed: {err}"))
}

/// Decodes a record, refusing values from a newer format.
pub fn decode<T: DeserializeOwned>(tree: TreeId, key: &[u8], bytes: &[u8]) -> Result<T, Error> {
    let corrupt = |reason: String| Error::Corrupt {
        tree: tree.name(),
        key: String::from_utf8_lossy(key).into_owned(),
        reason,
    };
    let envelope: EnvelopeIn<T> =
        serde_json::from_slice(bytes).map_err(|err| corrupt(err.to_string()))?;
    if envelope.v > FORMAT_VERSION {
        return Err(corrupt(format!(
            "format version {} is newer than this program's {FORMAT_VERSION}",
            envelope.v
        )));
    }
    Ok(envelope.d)
}

/// Decodes a record that borrows from `bytes` (strings and raw JSON stay in place).
pub fn decode_borrowed<'a, T: serde::Deserialize<'a>>(
    tree: TreeId,
    key: &[u8],
    bytes: &'a [u8],
) -> Result<T, Error> {
    let envelope: EnvelopeIn<T> = serde_json::from_slice(bytes).map_err(|err| Error::Corrupt {
        tree: tree.name(),
        key: String::from_utf8_lossy(key).into_owned(),
        reason: err.to_string(),
    })?;
    if envelope.v > FORMAT_VERSION {
        return Err(Error::Corrupt {
            tree: tree.name(),
            key: String::from_utf8_lossy(key).into_owned(),
            reason: format!(
                "format version {} is newer than this program's {FORMAT_VERSION}",
                envelope.v
            ),
        });
    }
    Ok(envelope.d)
}
