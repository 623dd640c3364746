//! CSRF tokens: every state-changing form carries a hidden `csrf` field whose value is
//! derived from the session token (a keyed hash), so it is bound to that session, needs no
//! storage, and changes at every sign-in. The cookie is `SameSite=Strict` too; the token is
//! the check that does not depend on the browser.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// The form field's name.
pub(crate) const FIELD: &str = "csrf";

/// The CSRF token of a session token.
pub(crate) fn token_for(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"notion-gate console csrf v1\0");
    h.update(session_token.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Whether `presented` is the session's CSRF token (constant time).
pub(crate) fn verify(session_token: &str, presented: &str) -> bool {
    let expected = token_for(session_token);
    expected.len() == presented.len() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_bound_to_its_session() {
        let t = token_for("ngs_a");
        assert!(verify("ngs_a", &t));
        assert!(!verify("ngs_b", &t));
        assert!(!verify("ngs_a", ""));
        assert!(!verify("ngs_a", &t[..t.len() - 1]));
    }
}
