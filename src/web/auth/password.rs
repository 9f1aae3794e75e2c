//! Password hashing with argon2id, and the rules a new password must meet.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::RngCore;

use crate::secret::Secret;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Longest password accepted, in bytes: hashing cost stays bounded.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password was refused; the text never includes the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Nothing, or only spaces.
    #[error("the password is empty")]
    Empty,
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")]
    /// Under [`MIN_PASSWORD_CHARS`].
    TooShort,
    #[error("the password is too long: use at most {MAX_PASSWORD_BYTES} bytes")]
    /// Over [`MAX_PASSWORD_BYTES`].
    TooLong,
    #[error("the password could not be hashed")]
    /// The hasher failed (no salt could be made).
    Hashing,
}

/// Checks the rules for a new password.
pub fn check_new(password: &Secret) -> Result<(), PasswordError> {
    let text = password.expose();
    if text.trim().is_empty() {
        return Err(PasswordError::Empty);
    }
    if text.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if text.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

/// The argon2id hash of a new password (PHC string with salt and parameters), after
/// [`check_new`]. Slow on purpose: call it off the async threads.
pub fn hash(password: &Secret) -> Result<String, PasswordError> {
    check_new(password)?;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hashing)?;
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// A hash no password matches, checked for unknown users so that a wrong name takes as
/// long as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash(&Secret::new(crate::web::auth::tokens::random_token())).unwrap_or_default()
});

/// True when `password` matches `stored`; `None` checks against a hash nothing matches.
/// Slow on purpose: call it off the async threads.
pub fn verify(stored: Option<&str>, password: &Secret) -> bool {
    let stored = stored.unwrap_or(DUMMY_HASH.as_str());
    if password.expose().len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let password = Secret::new("correct horse battery");
        let stored = hash(&password).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(!stored.contains("correct horse"));
        assert!(verify(Some(&stored), &password));
        assert!(!verify(Some(&stored), &Secret::new("wrong horse battery")));
        assert!(!verify(None, &password));
    }

    #[test]
    fn short_and_empty_passwords_are_refused() {
        assert_eq!(check_new(&Secret::new("")), Err(PasswordError::Empty));
        assert_eq!(
            check_new(&Secret::new("short")),
            Err(PasswordError::TooShort)
        );
        assert!(check_new(&Secret::new("long enough password")).is_ok());
    }
}
