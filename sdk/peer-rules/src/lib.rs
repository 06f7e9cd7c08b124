//! Herald's BGP peer rules, in one place for every crate that checks a peer (providers through
//! the SDK, the runtime checking what a provider returned, the agent checking flags, the BGP
//! speaker), and [`Secret`], the one type for a TCP MD5 password.
//!
//! Each check returns the reason in words, without the value when the value is secret; callers
//! add where the value came from (a flag, an annotation key, a WIT field).

mod secret;

pub use secret::Secret;

/// Longest TCP MD5 key Linux accepts (`TCP_MD5SIG_MAXKEYLEN`).
pub const MAX_MD5_PASSWORD_BYTES: usize = 80;

/// An empty key cannot be set, and one over [`MAX_MD5_PASSWORD_BYTES`] is refused by the kernel.
pub fn check_md5_password(password: &str) -> Result<(), String> {
    if password.is_empty() {
        return Err("empty MD5 password (omit it instead)".into());
    }
    if password.len() > MAX_MD5_PASSWORD_BYTES {
        return Err(format!(
            "MD5 password is {} bytes; TCP MD5 allows at most {MAX_MD5_PASSWORD_BYTES}",
            password.len()
        ));
    }
    Ok(())
}

/// RFC 4271 §4.2: the hold time is 0 (no keepalives) or at least 3 seconds.
pub fn check_hold_time(seconds: u16) -> Result<(), String> {
    if seconds == 1 || seconds == 2 {
        return Err(format!(
            "hold time {seconds} s: must be 0 (no keepalives) or at least 3 seconds (RFC 4271)"
        ));
    }
    Ok(())
}

/// A keepalive interval is at least 1 second and, when the peer sets a non-zero hold time, below
/// it (RFC 4271 §4.4: a KEEPALIVE must arrive before the hold timer runs out). With no hold time
/// of its own the peer gets the host's, which caps the interval to a third of it anyway.
pub fn check_keepalive(keepalive: u16, hold_time: Option<u16>) -> Result<(), String> {
    if keepalive == 0 {
        return Err("keepalive 0 s: must be at least 1 second (omit it for the default)".into());
    }
    match hold_time {
        Some(hold) if hold != 0 && keepalive >= hold => Err(format!(
            "keepalive {keepalive} s: must be below the hold time ({hold} s)"
        )),
        _ => Ok(()),
    }
}

/// AS numbers a peer can never use: 0 (RFC 7607), AS_TRANS 23456 (RFC 6793) and 4294967295
/// (RFC 7300).
pub fn check_asn(asn: u32) -> Result<(), String> {
    match asn {
        0 | 23_456 | 4_294_967_295 => Err(format!("{asn} is a reserved AS number")),
        _ => Ok(()),
    }
}

/// A multihop TTL is 1..=255 hops; 0 would never leave the host.
pub fn check_multihop_ttl(ttl: u8) -> Result<(), String> {
    if ttl == 0 {
        return Err("multihop TTL 0 is not a valid TTL".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_passwords_are_one_to_eighty_bytes_and_never_quoted() {
        assert!(check_md5_password("x").is_ok());
        assert!(check_md5_password(&"x".repeat(80)).is_ok());
        let long = check_md5_password(&"secret".repeat(14)).unwrap_err();
        assert!(
            long.contains("84 bytes") && !long.contains("secret"),
            "{long}"
        );
        assert!(check_md5_password("").is_err());
    }

    #[test]
    fn hold_times_of_one_and_two_seconds_are_refused() {
        for ok in [0, 3, 9, 90, u16::MAX] {
            assert!(check_hold_time(ok).is_ok(), "{ok}");
        }
        for bad in [1, 2] {
            assert!(check_hold_time(bad).unwrap_err().contains("at least 3"));
        }
    }

    #[test]
    fn keepalives_are_at_least_one_second_and_below_a_set_hold_time() {
        for (keepalive, hold) in [
            (1, None),
            (30, None),
            (3, Some(9)),
            (8, Some(9)),
            (5, Some(0)),
        ] {
            assert!(
                check_keepalive(keepalive, hold).is_ok(),
                "{keepalive} {hold:?}"
            );
        }
        assert!(check_keepalive(0, None).unwrap_err().contains("at least 1"));
        assert!(
            check_keepalive(0, Some(90))
                .unwrap_err()
                .contains("at least 1")
        );
        for (keepalive, hold) in [(9, 9), (10, 9), (u16::MAX, 3)] {
            let reason = check_keepalive(keepalive, Some(hold)).unwrap_err();
            assert!(reason.contains("below the hold time"), "{reason}");
        }
    }

    #[test]
    fn reserved_asns_are_refused() {
        for bad in [0, 23_456, u32::MAX] {
            assert!(check_asn(bad).unwrap_err().contains("reserved"), "{bad}");
        }
        for ok in [1, 65_000, 4_200_000_001] {
            assert!(check_asn(ok).is_ok());
        }
        assert!(check_multihop_ttl(0).is_err() && check_multihop_ttl(255).is_ok());
    }
}
