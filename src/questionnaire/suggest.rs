//! "Did you mean" suggestions for misspelt keys and names.

/// The closest candidate to `word`, if it is close enough to be a plausible typo.
///
/// Closeness is the edit distance (insertions, deletions, substitutions and transpositions
/// of adjacent characters); a candidate qualifies when the distance is at most one third of
/// the longer word's length (at least 1), so `lable` suggests `label` while `x` suggests
/// nothing. Unknown keys are reported on the validation path, so this stays cheap: no
/// allocation per candidate, and a candidate is abandoned as soon as it cannot qualify.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word: Vec<char> = word.chars().collect();
    let mut rows = Rows::default();
    let mut best: Option<(usize, &'a str)> = None;
    // One buffer for every candidate's characters, filled only for candidates whose length
    // can qualify (most cannot).
    let mut other: Vec<char> = Vec::new();
    let word_counts = char_counts(&word);
    for &candidate in candidates {
        let other_len = candidate.chars().count();
        let limit = (word.len().max(other_len) / 3).max(1);
        // The distance is at least the difference in length.
        if word.len().abs_diff(other_len) > limit {
            continue;
        }
        let bound = best.map_or(limit, |(d, _)| limit.min(d.saturating_sub(1)));
        // A second cheap lower bound: an insertion or deletion changes the character counts
        // by one, a substitution by two, a transposition not at all, so the distance is at
        // least half the difference of the counts. It rules out most candidates of an
        // unrelated key without filling the distance matrix.
        let mut counts = word_counts;
        for c in candidate.chars() {
            counts[bucket(c)] -= 1;
        }
        let difference: u32 = counts.iter().map(|n| n.unsigned_abs()).sum();
        if difference.div_ceil(2) as usize > bound {
            continue;
        }
        other.clear();
        other.extend(candidate.chars());
        if let Some(distance) = bounded_distance(&word, &other, bound, &mut rows) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Character counts in 64 buckets. Sharing a bucket can only hide differences, so the
/// bound computed from bucketed counts stays a lower bound.
fn char_counts(word: &[char]) -> [i32; 64] {
    let mut counts = [0; 64];
    for &c in word {
        counts[bucket(c)] += 1;
    }
    counts
}

fn bucket(c: char) -> usize {
    c as usize % 64
}

/// A " (did you mean `x`?)" suffix for messages, or an empty string.
pub fn suggestion_suffix(word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates) {
        Some(candidate) => format!(" (did you mean `{candidate}`?)"),
        None => String::new(),
    }
}

/// Three rolling rows of the distance matrix, reused across candidates.
#[derive(Default)]
struct Rows {
    before: Vec<usize>,
    previous: Vec<usize>,
    current: Vec<usize>,
}

/// The optimal-string-alignment distance between `a` and `b` when it is at most `bound`,
/// else `None` (stopping as soon as a whole row exceeds the bound).
fn bounded_distance(a: &[char], b: &[char], bound: usize, rows: &mut Rows) -> Option<usize> {
    let width = b.len() + 1;
    rows.before.clear();
    rows.before.resize(width, 0);
    rows.previous.clear();
    rows.previous.extend(0..width);
    rows.current.clear();
    rows.current.resize(width, 0);
    for i in 1..=a.len() {
        rows.current[0] = i;
        let mut row_min = i;
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows.previous[j] + 1)
                .min(rows.current[j - 1] + 1)
                .min(rows.previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows.before[j - 2] + 1);
            }
            rows.current[j] = best;
            row_min = row_min.min(best);
        }
        if row_min > bound {
            return None;
        }
        std::mem::swap(&mut rows.before, &mut rows.previous);
        std::mem::swap(&mut rows.previous, &mut rows.current);
    }
    let distance = rows.previous[width - 1];
    (distance <= bound).then_some(distance)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["label", "hint", "relevant", "required"];
        assert_eq!(did_you_mean("lable", &keys), Some("label"));
        assert_eq!(did_you_mean("relevent", &keys), Some("relevant"));
        assert_eq!(did_you_mean("titel", &["title", "items"]), Some("title"));
        assert_eq!(did_you_mean("colour", &keys), None);
    }
}
