//! API key format: `ngu_` (user) or `nga_` (agent), an 8-character public id, `_`, then 256
//! random bits in URL-safe base64. Only the SHA-256 of the whole key is stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use secrecy::SecretString;

use crate::ids::TokenHash;
use crate::models::ApiKeyKind;

/// Length of the random public id after the prefix.
const PUBLIC_LEN: usize = 8;
const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A freshly generated key, its listing prefix and its hash.
pub(crate) struct GeneratedKey {
    pub(crate) key: SecretString,
    pub(crate) public_id: String,
    pub(crate) hash: TokenHash,
}

/// Generates a key of `kind`.
pub(crate) fn generate(kind: ApiKeyKind) -> GeneratedKey {
    let mut rng = rand::rng();
    let mut public_id = String::from(kind.prefix());
    while public_id.len() < kind.prefix().len() + PUBLIC_LEN {
        // Rejection sampling keeps the distribution uniform over 62 symbols.
        let b = (rng.next_u32() & 0xff) as u8;
        if usize::from(b) < 62 * 4 {
            public_id.push(char::from(ALNUM[usize::from(b) % 62]));
        }
    }
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let key = format!("{public_id}_{}", URL_SAFE_NO_PAD.encode(secret));
    secret.fill(0);
    let hash = TokenHash::of(&key);
    GeneratedKey {
        key: SecretString::from(key),
        public_id,
        hash,
    }
}

/// The kind a key claims by its prefix, if it looks like a gateway key at all. Cheap, for
/// routing and error messages; authentication is the hash lookup.
pub fn key_kind(key: &str) -> Option<ApiKeyKind> {
    ApiKeyKind::ALL
        .iter()
        .copied()
        .find(|k| key.starts_with(k.prefix()))
}

/// The public id (`nga_Ab12Cd34`) of a well-formed key, for logs.
pub fn public_id_of(key: &str) -> Option<&str> {
    let kind = key_kind(key)?;
    let end = kind.prefix().len() + PUBLIC_LEN;
    (key.len() > end && key.as_bytes()[end] == b'_').then(|| &key[..end])
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn format() {
        let g = generate(ApiKeyKind::Agent);
        let key = g.key.expose_secret();
        assert!(key.starts_with("nga_"));
        assert_eq!(key.len(), 4 + 8 + 1 + 43);
        assert_eq!(public_id_of(key), Some(g.public_id.as_str()));
        assert_eq!(key_kind(key), Some(ApiKeyKind::Agent));
        assert_eq!(g.hash, TokenHash::of(key));
        let u = generate(ApiKeyKind::User);
        assert_eq!(key_kind(u.key.expose_secret()), Some(ApiKeyKind::User));
        assert_eq!(key_kind("sk-whatever"), None);
    }
}
