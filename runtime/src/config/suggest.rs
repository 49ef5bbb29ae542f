//! "Did you mean …?" — the nearest valid name by edit distance.

/// Edit distance between `a` and `b`, counted in characters: Levenshtein
/// (insertions, deletions, substitutions) plus transposition of two
/// adjacent characters, the commonest typo (`mian` → `main` is 1).
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: i-2, i-1 and i.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j - 1] + cost)
                .min(previous[j] + 1)
                .min(current[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate closest to `input`, if it is close enough to be a
/// plausible typo: within a third of the longer name's length (at least
/// 1, at most 4 edits). Ties go to the earlier candidate.
pub(crate) fn nearest<'a, I>(input: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let lowered = input.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = levenshtein(&lowered, &candidate.to_lowercase());
        let limit = (input.chars().count().max(candidate.chars().count()) / 3).clamp(1, 4);
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, name)| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("abc", ""), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("defualt_queue_depth", "default_queue_depth"), 1);
        assert_eq!(levenshtein("mian", "main"), 1);
        assert_eq!(levenshtein("ca", "abc"), 3);
        assert_eq!(levenshtein("µs", "us"), 1);
    }

    #[test]
    fn nearest_picks_a_plausible_typo_or_nothing() {
        let fields = [
            "default_queue_depth",
            "backpressure_policy",
            "low_watermark_ratio",
        ];
        assert_eq!(
            nearest("defualt_queue_depth", fields).as_deref(),
            Some("default_queue_depth")
        );
        assert_eq!(nearest("queue_depth", fields), None);
        assert_eq!(
            nearest("Backpressure_Policy", fields).as_deref(),
            Some("backpressure_policy")
        );
        assert_eq!(nearest("zzz", fields), None);
        assert_eq!(nearest("mian", ["main", "test"]).as_deref(), Some("main"));
    }
}
