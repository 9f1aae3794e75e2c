//! Random tokens, their digests, and comparisons that take the same time whatever differs.

use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes from the operating system's generator, as 64 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// Hex SHA-256 of `text`: what the database keeps instead of a session id.
pub fn digest(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Hex HMAC-SHA-256 of the `parts` (joined by NUL bytes) under `key`.
pub fn mac(key: &[u8], parts: &[&str]) -> String {
    // Any key length is valid for HMAC, so this never fails; an empty tag would only
    // make every check fail.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            mac.update(&[0]);
        }
        mac.update(part.as_bytes());
    }
    hex(&mac.finalize().into_bytes())
}

/// True when both are equal and non-empty, in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    a.bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_different() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_eq!(digest("abc").len(), 64);
        assert_ne!(digest("abc"), "abc");
    }

    #[test]
    fn macs_depend_on_key_and_parts() {
        let one = mac(b"k", &["a", "b"]);
        assert_eq!(one, mac(b"k", &["a", "b"]));
        assert_ne!(one, mac(b"k", &["ab"]));
        assert_ne!(one, mac(b"other", &["a", "b"]));
        assert!(same(&one, &one.clone()));
        assert!(!same(&one, ""));
        assert!(!same("", ""));
    }
}
