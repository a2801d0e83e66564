//! Bilingual texts: labels, hints and messages keyed by language code.

/// A text in several languages, `{"en": "Sex", "vi": "Giới tính"}`, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    /// (language code, text) pairs in the order the document gives them.
    pub translations: Vec<(String, String)>,
}

impl Text {
    /// The text in `lang`, if the document has it.
    pub fn get(&self, lang: &str) -> Option<&str> {
        self.translations
            .iter()
            .find(|(code, _)| code == lang)
            .map(|(_, text)| text.as_str())
    }

    /// The text in `lang`, else in `fallback`, else the first one; empty when there is none.
    pub fn get_or(&self, lang: &str, fallback: &str) -> &str {
        self.get(lang)
            .or_else(|| self.get(fallback))
            .or_else(|| self.translations.first().map(|(_, text)| text.as_str()))
            .unwrap_or("")
    }

    /// The language codes present, in document order.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.translations.iter().map(|(code, _)| code.as_str())
    }
}
