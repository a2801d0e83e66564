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
