//! "Did you mean" suggestions for misspelt keys and names.

/// The closest candidate to `word`, if it is close enough to be a plausible typo.
///
/// Closeness is the Levenshtein distance; a candidate qualifies when the distance is at most
/// one third of the longer word's length (at least 1), so `lable` suggests `label` while `x`
/// suggests nothing.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(usize, &'a str)> = None;
    for &candidate in candidates {
        let distance = levenshtein(word, candidate);
        let limit = (word.chars().count().max(candidate.chars().count()) / 3).max(1);
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// A " (did you mean `x`?)" suffix for messages, or an empty string.
pub fn suggestion_suffix(word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates) {
        Some(candidate) => format!(" (did you mean `{candidate}`?)"),
        None => String::new(),
    }
}

/// Edit distance counting insertions, deletions and substitutions of characters.
fn levenshtein(a: &str, b: &str) -> usize {
    let b_chars: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b_chars.len()).collect();
    let mut current = vec![0; b_chars.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b_chars.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b_chars.len()]
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["label", "hint", "relevant", "required"];
        assert_eq!(did_you_mean("lable", &keys), Some("label"));
        assert_eq!(did_you_mean("relevent", &keys), Some("relevant"));
        assert_eq!(did_you_mean("colour", &keys), None);
    }
}
