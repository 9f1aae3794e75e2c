//! The appliance's rule for backup encryption passwords, checked before anything is sent.

/// Shortest accepted password.
pub const MIN_CHARS: usize = 8;
/// Longest accepted password.
pub const MAX_CHARS: usize = 20;

/// `Ok` when the appliance would accept `password`, else what is wrong in words. The
/// password itself never appears in the answer.
pub fn check(password: &str) -> Result<(), String> {
    let count = password.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&count) {
        return Err(format!(
            "it must be {MIN_CHARS} to {MAX_CHARS} characters long; it has {count}"
        ));
    }
    if password.chars().any(|c| c == ' ') {
        return Err("it must not contain spaces".to_owned());
    }
    if !password.chars().all(|c| c.is_ascii_graphic()) {
        return Err("it must use printable ASCII characters only".to_owned());
    }

    let mut missing = Vec::new();
    if !password.chars().any(|c| c.is_ascii_uppercase()) {
        missing.push("an upper-case letter");
    }
    if !password.chars().any(|c| c.is_ascii_lowercase()) {
        missing.push("a lower-case letter");
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        missing.push("a digit");
    }
    if !password.chars().any(|c| !c.is_ascii_alphanumeric()) {
        missing.push("a special character");
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!("it needs at least {}", missing.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn the_rule_of_the_appliance() {
        assert!(check("Xk7#pLq2mW").is_ok());
        assert!(check("Xk7#pLq").unwrap_err().contains("8 to 20"));
        assert!(check("Xk7#pLq2mWXk7#pLq2mWX").is_err());
        assert!(check("Xk7# pLq2mW").unwrap_err().contains("spaces"));
        assert!(check("Xk7#pLq2mWé").unwrap_err().contains("ASCII"));
        let why = check("abcdefgh").unwrap_err();
        assert!(why.contains("upper-case") && why.contains("digit"), "{why}");
        assert!(!why.contains("abcdefgh"));
    }
}
