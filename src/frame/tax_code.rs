//! Vietnamese tax codes (mã số thuế) in one normal form, for record linkage.
//!
//! An enterprise has a 10-digit code; a dependent unit (branch, representative office) has
//! the parent's 10 digits, a dash, and a 3-digit suffix (`0101234567-001`). Respondents write
//! them with spaces, dots or dashes in various places, so the normal form keeps the digits
//! only: `0101234567-001`, `0101 234 567 - 001` and `0101234567001` are the same code.

/// A tax code in normal form: 10 or 13 ASCII digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaxCode(String);

impl TaxCode {
    /// Normalises `text` (drops spaces, dashes and dots) and accepts 10 or 13 digits.
    /// Anything else (letters, other lengths, foreign codes) is `None`.
    pub fn parse(text: &str) -> Option<TaxCode> {
        let mut digits = String::with_capacity(13);
        for ch in text.chars() {
            match ch {
                '0'..='9' => digits.push(ch),
                ' ' | '\t' | '-' | '.' => {}
                _ => return None,
            }
        }
        matches!(digits.len(), 10 | 13).then_some(TaxCode(digits))
    }

    /// The digits (10 or 13).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A compact integer key, equal for equal codes: the digits as a number, with bit 60
    /// marking 13-digit codes (so `0101234567` and `101234567` cannot collide: the latter is
    /// not a tax code at all). Used to index a million-unit frame without allocating.
    pub fn key(&self) -> u64 {
        key_of_digits(self.0.as_bytes())
    }

    /// [`TaxCode::key`] of `text` without building a `TaxCode`; `None` when `text` is not
    /// a tax code.
    pub fn key_of(text: &str) -> Option<u64> {
        let mut digits = [0u8; 13];
        let mut len = 0;
        for byte in text.bytes() {
            match byte {
                b'0'..=b'9' => {
                    if len == 13 {
                        return None;
                    }
                    digits[len] = byte;
                    len += 1;
                }
                b' ' | b'\t' | b'-' | b'.' => {}
                _ => return None,
            }
        }
        matches!(len, 10 | 13).then(|| key_of_digits(&digits[..len]))
    }

    /// The key of the parent enterprise of a 13-digit branch key; `None` for a 10-digit key.
    pub fn parent_key(key: u64) -> Option<u64> {
        (key & (1 << 60) != 0).then_some((key & !(1 << 60)) / 1000)
    }

    /// For a 13-digit branch code, the 10-digit code of the parent enterprise.
    pub fn parent(&self) -> Option<TaxCode> {
        (self.0.len() == 13).then(|| TaxCode(self.0[..10].to_string()))
    }

    /// The conventional printed form: `0101234567` or `0101234567-001`.
    pub fn display_form(&self) -> String {
        if self.0.len() == 13 {
            format!("{}-{}", &self.0[..10], &self.0[10..])
        } else {
            self.0.clone()
        }
    }
}

impl std::fmt::Display for TaxCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display_form())
    }
}

fn key_of_digits(digits: &[u8]) -> u64 {
    let value = digits
        .iter()
        .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    if digits.len() == 13 {
        value | (1 << 60)
    } else {
        value
    }
}
