//! What changed between two versions of the editor's text, in UTF-16 code units (the units
//! of JavaScript strings, of a textarea's `selectionStart`, and of the document's `Y.Text`,
//! which the client opens with `OffsetKind::Utf16`), and where a caret goes through such a
//! change. Pure; tested on the host.
//!
//! A textarea's `input` event says only what the value is now, so the edit is recovered
//! as one [`Splice`]: the common prefix and suffix of the old and new text, never splitting a
//! surrogate pair. Where that is ambiguous ("aa" → "aaa"), the caret decides: the inserted
//! text ends where the caret is after typing, which keeps concurrent editors' intent ("I
//! typed after the first a").

/// One contiguous change: at UTF-16 offset `at`, `delete` units were removed and `insert`
/// put in their place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    pub at: u32,
    pub delete: u32,
    pub insert: String,
}

impl Splice {
    /// Length of [`Splice::insert`] in UTF-16 code units.
    pub fn insert_len(&self) -> u32 {
        utf16_len(&self.insert)
    }

    /// `text` with the splice applied (`text` in the splice's coordinates).
    pub fn apply(&self, text: &str) -> String {
        let units: Vec<u16> = text.encode_utf16().collect();
        let at = (self.at as usize).min(units.len());
        let end = (at + self.delete as usize).min(units.len());
        let mut out = String::from_utf16_lossy(&units[..at]);
        out.push_str(&self.insert);
        out.push_str(&String::from_utf16_lossy(&units[end..]));
        out
    }
}

/// Length of `s` in UTF-16 code units (JavaScript's `s.length`).
pub fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

fn is_high_surrogate(u: u16) -> bool {
    (0xD800..0xDC00).contains(&u)
}

fn is_low_surrogate(u: u16) -> bool {
    (0xDC00..0xE000).contains(&u)
}

/// The change from `old` to `new`, or `None` if they are equal. `caret` is where the caret is
/// in `new` after the edit (UTF-16; any value is safe, it only breaks ties).
pub fn diff(old: &str, new: &str, caret: Option<u32>) -> Option<Splice> {
    if old == new {
        return None;
    }
    let a: Vec<u16> = old.encode_utf16().collect();
    let b: Vec<u16> = new.encode_utf16().collect();
    let shortest = a.len().min(b.len());
    // The common suffix may not reach left of the caret: the edit ends at or before it.
    let max_suffix = caret.map_or(shortest, |c| {
        shortest.min(b.len().saturating_sub(c as usize))
    });
    let mut suffix = 0;
    while suffix < max_suffix && a[a.len() - 1 - suffix] == b[b.len() - 1 - suffix] {
        suffix += 1;
    }
    // Never start the suffix on the second half of a surrogate pair.
    if suffix > 0 && suffix < b.len() && is_low_surrogate(b[b.len() - suffix]) {
        suffix -= 1;
    }
    let max_prefix = shortest - suffix;
    let mut prefix = 0;
    while prefix < max_prefix && a[prefix] == b[prefix] {
        prefix += 1;
    }
    // Never end the prefix on the first half of a surrogate pair.
    if prefix > 0 && is_high_surrogate(b[prefix - 1]) {
        prefix -= 1;
    }
    Some(Splice {
        at: prefix as u32,
        delete: (a.len() - prefix - suffix) as u32,
        insert: String::from_utf16_lossy(&b[prefix..b.len() - suffix]),
    })
}

/// Where a caret at `pos` (in the text before `splice`) is after it: unchanged before the
/// change, shifted after it, and at the end of the inserted text when it was inside what
/// was replaced.
pub fn map_caret(pos: u32, splice: &Splice) -> u32 {
    if pos <= splice.at {
        pos
    } else if pos >= splice.at + splice.delete {
        pos - splice.delete + splice.insert_len()
    } else {
        splice.at + splice.insert_len()
    }
}

/// `pos` moved left onto a character boundary of `text` (never between the halves of a
/// surrogate pair) and clamped to its length.
pub fn clamp_to_boundary(text: &str, pos: u32) -> u32 {
    let mut at = 0u32;
    for c in text.chars() {
        let next = at + c.len_utf16() as u32;
        if next > pos {
            return at;
        }
        at = next;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(old: &str, new: &str, caret: Option<u32>, want: (u32, u32, &str)) {
        let s = diff(old, new, caret).expect("a change");
        assert_eq!(
            (s.at, s.delete, s.insert.as_str()),
            want,
            "{old:?} → {new:?}"
        );
        assert_eq!(s.apply(old), new);
    }

    #[test]
    fn finds_inserts_deletes_and_replacements() {
        assert_eq!(diff("same", "same", None), None);
        check("", "abc", Some(3), (0, 0, "abc"));
        check("abc", "", Some(0), (0, 3, ""));
        check("hello world", "hello, world", Some(6), (5, 0, ","));
        check("hello world", "hell world", Some(4), (4, 1, ""));
        check("hello world", "hello there", Some(11), (6, 5, "there"));
        check("abc", "aXc", Some(2), (1, 1, "X"));
    }

    #[test]
    fn the_caret_breaks_ties() {
        // Typing "a" after the first "a" of "aa".
        check("aa", "aaa", Some(2), (1, 0, "a"));
        check("aa", "aaa", Some(1), (0, 0, "a"));
        // Without a caret the common suffix is taken first.
        check("aa", "aaa", None, (0, 0, "a"));
        // Backspace over the middle "a" of "aaa".
        check("aaa", "aa", Some(1), (1, 1, ""));
        // A nonsense caret still gives a correct splice.
        check("aa", "aaa", Some(99), (2, 0, "a"));
        check("abc", "abXc", Some(0), (2, 0, "X"));
    }

    #[test]
    fn never_splits_a_surrogate_pair() {
        // 😀 is U+1F600 (D83D DE00), 😁 is U+1F601 (D83D DE01): same high surrogate.
        check("a😀b", "a😁b", Some(3), (1, 2, "😁"));
        check("😀", "😁", None, (0, 2, "😁"));
        check("😀😀", "😀", Some(2), (2, 2, ""));
        check("x😀", "x😀😀", Some(5), (3, 0, "😀"));
        check("é😀", "é", Some(1), (1, 2, ""));
        check("👍🏽", "👍", Some(2), (2, 2, ""));
        // Offsets are UTF-16 units, as in JavaScript.
        let s = diff("😀😀", "😀x😀", Some(3)).unwrap();
        assert_eq!((s.at, s.delete, s.insert_len()), (2, 0, 1));
    }

    #[test]
    fn random_edits_round_trip() {
        let alphabet: Vec<char> = "ab😀é\n".chars().collect();
        let mut seed = 0x9e37_79b9_u32;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize % n
        };
        for _ in 0..2000 {
            let old: String = (0..next(6))
                .map(|_| alphabet[next(alphabet.len())])
                .collect();
            let new: String = (0..next(6))
                .map(|_| alphabet[next(alphabet.len())])
                .collect();
            let caret = Some(next(10) as u32);
            match diff(&old, &new, caret) {
                None => assert_eq!(old, new),
                Some(s) => assert_eq!(s.apply(&old), new, "{old:?} → {new:?} {caret:?}"),
            }
        }
    }

    #[test]
    fn carets_follow_the_change() {
        let typed = Splice {
            at: 5,
            delete: 0,
            insert: "😀".into(),
        };
        assert_eq!(map_caret(3, &typed), 3);
        assert_eq!(map_caret(5, &typed), 5);
        assert_eq!(map_caret(6, &typed), 8);
        let replaced = Splice {
            at: 2,
            delete: 4,
            insert: "x".into(),
        };
        assert_eq!(map_caret(2, &replaced), 2);
        assert_eq!(map_caret(4, &replaced), 3);
        assert_eq!(map_caret(6, &replaced), 3);
        assert_eq!(map_caret(9, &replaced), 6);
    }

    #[test]
    fn clamps_onto_character_boundaries() {
        assert_eq!(clamp_to_boundary("a😀b", 2), 1);
        assert_eq!(clamp_to_boundary("a😀b", 3), 3);
        assert_eq!(clamp_to_boundary("a😀b", 99), 4);
        assert_eq!(utf16_len("a😀b"), 4);
    }
}
