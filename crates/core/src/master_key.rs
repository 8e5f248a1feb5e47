//! The master key: what makes a copy of the database alone reveal no
//! credential.
//!
//! It is 32 random bytes kept outside the database, in a file of mode 0600
//! (by default `master.key` in the data dir). Two keys are derived from it:
//! one keys the HMAC-SHA256 under which device keys are stored (they are
//! only ever looked up, never shown again), the other seals the secrets that
//! must be recoverable (device secrets, TOTP seeds, app api keys) with
//! XChaCha20-Poly1305 under a random nonce, bound to the record they belong
//! to by associated data.

use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secrets::random_bytes;

/// The file name of the master key in a data dir.
pub const MASTER_KEY_FILE: &str = "master.key";

/// Version byte in front of every sealed value.
const SEALED_V1: u8 = 1;
const NONCE_LEN: usize = 24;

/// Why the master key could not be read, made or used.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The file could not be read or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file does not hold a key.
    #[error("master key file {0}: not a Thingstead master key (64 hex digits expected)")]
    Malformed(PathBuf),
    /// A sealed value did not open: wrong key, or tampered data.
    #[error("a sealed credential does not open with this master key (wrong master key file?)")]
    Unseal,
}

/// The master key, with the keys derived from it.
#[derive(Clone)]
pub struct MasterKey {
    lookup: [u8; 32],
    seal: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(****)")
    }
}

fn derive(master: &[u8], purpose: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC takes keys of any length");
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

impl MasterKey {
    fn from_bytes(master: &[u8]) -> Self {
        Self {
            lookup: derive(master, b"thingstead devicekey lookup v1"),
            seal: derive(master, b"thingstead credential seal v1"),
        }
    }

    /// Reads the key from `path`.
    pub fn load(path: &Path) -> Result<Self, MasterKeyError> {
        let io = |source| MasterKeyError::Io {
            path: path.to_owned(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        let bytes = hex::decode(text.trim()).map_err(|_| MasterKeyError::Malformed(path.to_owned()))?;
        if bytes.len() != 32 {
            return Err(MasterKeyError::Malformed(path.to_owned()));
        }
        Ok(Self::from_bytes(&bytes))
    }

    /// Writes a fresh key to `path` (mode 0600), refusing to replace an
    /// existing file: losing a master key loses every sealed credential.
    pub fn generate(path: &Path) -> Result<Self, MasterKeyError> {
        use std::os::unix::fs::OpenOptionsExt;
        let io = |source| MasterKeyError::Io {
            path: path.to_owned(),
            source,
        };
        let bytes = random_bytes(32);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        file.write_all(format!("{}\n", hex::encode(&bytes)).as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(io)?;
        Ok(Self::from_bytes(&bytes))
    }

    /// Reads the key from `path`, or makes one there when the file does not
    /// exist (the embedded store's first start). Safe when two processes
    /// race: the loser reads the winner's key.
    pub fn load_or_generate(path: &Path) -> Result<Self, MasterKeyError> {
        match Self::generate(path) {
            Ok(key) => Ok(key),
            Err(MasterKeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::load_complete(path)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads a key another process may be writing this very moment.
    fn load_complete(path: &Path) -> Result<Self, MasterKeyError> {
        let mut last = Self::load(path);
        for _ in 0..50 {
            if !matches!(last, Err(MasterKeyError::Malformed(_))) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            last = Self::load(path);
        }
        last
    }

    /// The keyed hash a device key is stored and looked up by (hex).
    pub fn devicekey_hash(&self, devicekey: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.lookup).expect("HMAC takes keys of any length");
        mac.update(devicekey.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Seals `plaintext`, bound to `context` (e.g. `"device.secret:UUID"`):
    /// the sealed value opens only with the same context.
    pub fn seal(&self, context: &str, plaintext: &str) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let nonce = random_bytes(NONCE_LEN);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.as_bytes(),
        };
        // Encryption fails only for messages past 256 GiB; credentials are bytes long.
        let sealed = cipher.encrypt(XNonce::from_slice(&nonce), payload).unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value [`MasterKey::seal`] made with the same context.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<String, MasterKeyError> {
        let (version, rest) = sealed.split_first().ok_or(MasterKeyError::Unseal)?;
        if *version != SEALED_V1 || rest.len() < NONCE_LEN {
            return Err(MasterKeyError::Unseal);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| MasterKeyError::Unseal)?;
        String::from_utf8(plain).map_err(|_| MasterKeyError::Unseal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate(&dir.path().join("a")).unwrap();
        let other = MasterKey::generate(&dir.path().join("b")).unwrap();
        let sealed = key.seal("device.secret:u1", "hunter2");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(key.open("device.secret:u1", &sealed).unwrap(), "hunter2");
        assert!(key.open("device.secret:u2", &sealed).is_err());
        assert!(other.open("device.secret:u1", &sealed).is_err());
        assert!(key.open("x", &[]).is_err());
    }

    #[test]
    fn the_key_file_is_private_reloadable_and_never_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MASTER_KEY_FILE);
        let key = MasterKey::load_or_generate(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = MasterKey::load_or_generate(&path).unwrap();
        assert_eq!(key.devicekey_hash("abcd1234"), again.devicekey_hash("abcd1234"));
        assert!(MasterKey::generate(&path).is_err());
        std::fs::write(dir.path().join("bad"), "nope").unwrap();
        assert!(matches!(
            MasterKey::load(&dir.path().join("bad")),
            Err(MasterKeyError::Malformed(_))
        ));
    }
}
