//! Notion object ids: normalisation and dash/case-insensitive comparison.

/// Normalises a Notion id (32 hex digits, with or without dashes, any case) to the canonical
/// dashed lowercase form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. Returns `None` for anything
/// else.
pub fn normalize_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let mut hex = [0u8; 32];
    let mut n = 0;
    for b in raw.bytes() {
        if b == b'-' {
            continue;
        }
        if !b.is_ascii_hexdigit() || n == 32 {
            return None;
        }
        hex[n] = b.to_ascii_lowercase();
        n += 1;
    }
    if n != 32 {
        return None;
    }
    let mut out = String::with_capacity(36);
    for (i, b) in hex.iter().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        out.push(char::from(*b));
    }
    Some(out)
}

/// Whether two ids are the same, ignoring dashes and ASCII case. Does not allocate.
pub fn ids_equal(a: &str, b: &str) -> bool {
    let mut a = a.bytes().filter(|b| *b != b'-');
    let mut b = b.bytes().filter(|b| *b != b'-');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(&y) => {}
            _ => return false,
        }
    }
}

/// The id as a target: normalised when it is a Notion id, otherwise kept as given (trimmed).
pub(crate) fn target_id(raw: &str) -> String {
    normalize_id(raw).unwrap_or_else(|| raw.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_both_forms() {
        let want = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";
        assert_eq!(
            normalize_id("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d").unwrap(),
            want
        );
        assert_eq!(
            normalize_id("1A2B3C4D-5E6F-7A8B-9C0D-1E2F3A4B5C6D").unwrap(),
            want
        );
        assert_eq!(
            normalize_id(" 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d ").unwrap(),
            want
        );
        assert!(normalize_id("1a2b").is_none());
        assert!(normalize_id("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d0").is_none());
        assert!(normalize_id("zz2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d").is_none());
    }

    #[test]
    fn equality_ignores_dashes_and_case() {
        assert!(ids_equal(
            "1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D",
            "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
        ));
        assert!(!ids_equal("abc", "abcd"));
        assert!(ids_equal("", "-"));
    }
}
