//! The token vault: Fernet encryption of Notion tokens, compatible with Python's
//! `cryptography.fernet.Fernet`, with several keys for rotation.
//!
//! The first key encrypts; every key decrypts (`MultiFernet` semantics). Each ciphertext is
//! stored next to the [`KeyId`] of the key that made it, so rotation can find what is left to
//! re-encrypt. Keys come from `NOTION_GATE_ENCRYPTION_KEY` (comma-separated) or from a key
//! file in the data folder, created with mode 0600 on first run and refused if group or world
//! can read it. A decryption failure is [`StoreError::ReconnectRequired`]: a stored value is
//! never used as a token unless it decrypts.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::error::{Result, StoreError};

/// The environment variable holding one or more keys, comma-separated, first one encrypting.
pub const KEY_ENV: &str = "NOTION_GATE_ENCRYPTION_KEY";

/// The key file's name inside the data folder.
pub const KEY_FILE_NAME: &str = "encryption.key";

/// A key's public fingerprint: the first 8 hex digits of SHA-256 of the 32 key bytes. Safe to
/// log and store.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    fn of(raw_key: &[u8]) -> Self {
        Self(hex::encode(&Sha256::digest(raw_key)[..4]))
    }

    /// Wraps a stored key id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

/// One Fernet key. Its `Debug` shows only the key id.
#[derive(Clone)]
pub struct VaultKey {
    id: KeyId,
    fernet: fernet::Fernet,
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl VaultKey {
    /// Parses a Fernet key: 32 bytes in base64, URL-safe or standard alphabet, padded or not
    /// (Python accepted both, so `openssl rand -base64 32` output works).
    pub fn parse(encoded: &str) -> Result<Self> {
        let s = encoded.trim();
        let raw = [URL_SAFE, URL_SAFE_NO_PAD, STANDARD, STANDARD_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(s).ok())
            .ok_or_else(|| StoreError::Crypto {
                reason: "a key is not valid base64".to_owned(),
            })?;
        Self::from_raw(&raw)
    }

    /// A key from its 32 raw bytes.
    pub fn from_raw(raw: &[u8]) -> Result<Self> {
        if raw.len() != 32 {
            return Err(StoreError::Crypto {
                reason: format!("a key decodes to {} bytes, want 32", raw.len()),
            });
        }
        let fernet =
            fernet::Fernet::new(&URL_SAFE.encode(raw)).ok_or_else(|| StoreError::Crypto {
                reason: "a key was refused by Fernet".to_owned(),
            })?;
        Ok(Self {
            id: KeyId::of(raw),
            fernet,
        })
    }

    /// The key the original system derived from `ENCRYPTION_KEY` / `SECRET_KEY` (its "scheme
    /// A"): SHA-256 of the UTF-8 secret. Only for importing legacy tokens.
    pub fn from_legacy_secret(secret: &SecretString) -> Self {
        let raw = Sha256::digest(secret.expose_secret().as_bytes());
        // 32 bytes by construction, so `from_raw` cannot fail; keep a total fallback anyway.
        Self::from_raw(&raw).unwrap_or_else(|_| Self::generate().1)
    }

    /// A new random key and its encoded form (URL-safe base64, like Python's
    /// `Fernet.generate_key()`).
    pub fn generate() -> (SecretString, Self) {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let encoded = URL_SAFE.encode(raw);
        let fernet = fernet::Fernet::new(&encoded);
        let id = KeyId::of(&raw);
        raw.fill(0);
        match fernet {
            Some(fernet) => (SecretString::from(encoded), Self { id, fernet }),
            // Unreachable: 32 bytes always make a valid key. Retry rather than panic.
            None => Self::generate(),
        }
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }
}

/// A ciphertext with the id of the key that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sealed {
    /// The key that encrypted it.
    pub key_id: KeyId,
    /// The Fernet token (URL-safe base64, starts with `gAAAA`).
    pub token: String,
}

/// Where a vault's keys came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// The environment variable.
    Env,
    /// An existing key file.
    File(PathBuf),
    /// A key file created just now.
    CreatedFile(PathBuf),
    /// Given directly.
    Direct,
}

/// Encrypts and decrypts tokens with a list of keys; the first encrypts, all decrypt.
#[derive(Clone)]
pub struct Vault {
    keys: Vec<VaultKey>,
    source: KeySource,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("key_ids", &self.key_ids())
            .field("source", &self.source)
            .finish()
    }
}

impl Vault {
    /// A vault over `keys`; the first encrypts. At least one key is needed.
    pub fn new(keys: Vec<VaultKey>) -> Result<Self> {
        if keys.is_empty() {
            return Err(StoreError::Crypto {
                reason: "no encryption key configured".to_owned(),
            });
        }
        Ok(Self {
            keys,
            source: KeySource::Direct,
        })
    }

    /// Parses a list of keys separated by commas, newlines or spaces; `#` starts a comment
    /// line. The format of both `NOTION_GATE_ENCRYPTION_KEY` and the key file.
    pub fn from_key_list(list: &str) -> Result<Self> {
        let keys = list
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(|line| line.split([',', ' ', '\t']))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(VaultKey::parse)
            .collect::<Result<Vec<_>>>()?;
        Self::new(keys)
    }

    /// Loads the keys the way the gateway does at start-up: from `env` (the value of
    /// [`KEY_ENV`], if set and not blank), else from `<data_dir>/encryption.key`, which is
    /// created with a new random key and mode 0600 if it does not exist. An existing key file
    /// that the group or others can read is refused.
    pub fn load_or_create(data_dir: &Path, env: Option<&str>) -> Result<Self> {
        if let Some(value) = env.filter(|v| !v.trim().is_empty()) {
            let mut vault = Self::from_key_list(value)?;
            vault.source = KeySource::Env;
            return Ok(vault);
        }
        let path = Self::key_file_path(data_dir);
        match read_key_file(&path) {
            Ok(text) => {
                let mut vault = Self::from_key_list(&text)?;
                vault.source = KeySource::File(path);
                Ok(vault)
            }
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                create_key_file(data_dir, &path)
            }
            Err(e) => Err(e),
        }
    }

    /// Where [`Vault::load_or_create`] keeps the key file.
    pub fn key_file_path(data_dir: &Path) -> PathBuf {
        data_dir.join(KEY_FILE_NAME)
    }

    /// Adds keys that only decrypt (for example legacy keys while importing); they go after
    /// the existing ones, so the primary key is unchanged.
    pub fn with_decrypt_keys(mut self, keys: impl IntoIterator<Item = VaultKey>) -> Self {
        self.keys.extend(keys);
        self
    }

    /// Where the keys came from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The id of the key that encrypts.
    pub fn primary_key_id(&self) -> &KeyId {
        &self.keys[0].id
    }

    /// Ids of every key, the primary first.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }

    /// Encrypts with the primary key.
    pub fn encrypt(&self, plaintext: &SecretString) -> Sealed {
        let key = &self.keys[0];
        Sealed {
            key_id: key.id.clone(),
            token: key.fernet.encrypt(plaintext.expose_secret().as_bytes()),
        }
    }

    /// Decrypts a Fernet token (no time-to-live, like the original). `key_id`, when given,
    /// is tried first; then every key in order. Fails with
    /// [`StoreError::ReconnectRequired`] if no key can decrypt it or it is not UTF-8.
    pub fn decrypt(&self, token: &str, key_id: Option<&KeyId>) -> Result<SecretString> {
        let hinted = key_id.and_then(|id| self.keys.iter().find(|k| &k.id == id));
        let mut bytes = hinted
            .into_iter()
            .chain(self.keys.iter())
            .find_map(|k| k.fernet.decrypt(token).ok())
            .ok_or(StoreError::ReconnectRequired {
                connection_id: None,
            })?;
        match String::from_utf8(std::mem::take(&mut bytes)) {
            Ok(s) => Ok(SecretString::from(s)),
            Err(e) => {
                let mut raw = e.into_bytes();
                raw.fill(0);
                Err(StoreError::ReconnectRequired {
                    connection_id: None,
                })
            }
        }
    }

    /// Which key decrypts `token`, if any.
    pub fn key_for(&self, token: &str) -> Option<&KeyId> {
        self.keys
            .iter()
            .find(|k| k.fernet.decrypt(token).is_ok())
            .map(|k| &k.id)
    }
}

fn read_key_file(path: &Path) -> Result<String> {
    let what = || format!("key file {}", path.display());
    let meta = std::fs::metadata(path).map_err(|e| StoreError::io(what(), e))?;
    check_permissions(path, &meta)?;
    std::fs::read_to_string(path).map_err(|e| StoreError::io(what(), e))
}

#[cfg(unix)]
fn check_permissions(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(StoreError::KeyFilePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path, _meta: &std::fs::Metadata) -> Result<()> {
    Ok(())
}

fn create_key_file(data_dir: &Path, path: &Path) -> Result<Vault> {
    let mut dirs = std::fs::DirBuilder::new();
    dirs.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        dirs.mode(0o700);
    }
    dirs.create(data_dir)
        .map_err(|e| StoreError::io(format!("data folder {}", data_dir.display()), e))?;

    let (encoded, key) = VaultKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let what = || format!("key file {}", path.display());
    let mut file = match options.open(path) {
        Ok(f) => f,
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mut vault = Vault::from_key_list(&read_key_file(path)?)?;
            vault.source = KeySource::File(path.to_owned());
            return Ok(vault);
        }
        Err(e) => return Err(StoreError::io(what(), e)),
    };
    let contents = format!(
        "# notion-gate token encryption key (Fernet). Keep it secret; losing it means reconnecting.\n\
         # To rotate: put a new key on the first line, keep the old ones below, run `notion-gate keys rotate`.\n{}\n",
        encoded.expose_secret()
    );
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(what(), e))?;
    tracing::info!(key_id = %key.id, path = %path.display(), "created a new encryption key file");
    let mut vault = Vault::new(vec![key])?;
    vault.source = KeySource::CreatedFile(path.to_owned());
    Ok(vault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_debug_hides_keys() {
        let (encoded, key) = VaultKey::generate();
        let vault = Vault::new(vec![key]).expect("one key");
        let sealed = vault.encrypt(&SecretString::from("ntn_secret_token"));
        assert!(sealed.token.starts_with("gAAAA"));
        let back = vault
            .decrypt(&sealed.token, Some(&sealed.key_id))
            .expect("decrypts");
        assert_eq!(back.expose_secret(), "ntn_secret_token");
        let dbg = format!("{vault:?}");
        assert!(!dbg.contains(encoded.expose_secret()), "{dbg}");
        assert!(dbg.contains(sealed.key_id.as_str()));
    }

    #[test]
    fn key_parsing_accepts_both_alphabets() {
        let raw = [0xfbu8; 32];
        let a = VaultKey::parse(&URL_SAFE.encode(raw)).expect("url-safe");
        let b = VaultKey::parse(&STANDARD.encode(raw)).expect("standard");
        let c = VaultKey::parse(&STANDARD_NO_PAD.encode(raw)).expect("no pad");
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id(), c.id());
        assert_eq!(a.id().as_str().len(), 8);
        assert!(VaultKey::parse("too-short").is_err());
        assert!(VaultKey::parse(&URL_SAFE.encode([1u8; 16])).is_err());
        assert!(Vault::from_key_list(" , ").is_err());
    }
}
