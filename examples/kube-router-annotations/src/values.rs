//! Value rules shared by both annotation formats: numbers, kube-router's peer-ASN ranges and
//! base64 MD5 passwords.

use base64::Engine as _;
use herald_sdk::Password;

pub use herald_sdk::rules::MAX_MD5_PASSWORD_BYTES as MAX_PASSWORD_BYTES;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("{0:?} is not a number")]
    NotANumber(String),
    /// kube-router parses with Go's `strconv.ParseUint(s, 0, 32)`, where `065000` is octal
    /// (27136), `0x10` hex and `65_000` allowed; such text is refused rather than guessed.
    #[error(
        "{0:?} is not a plain decimal number (no leading zeros, 0x/0o/0b prefixes or `_`: kube-router \
         would read a leading 0 as octal)"
    )]
    NotPlainDecimal(String),
    #[error("{0} is larger than {1}")]
    TooLarge(String, u64),
}

/// A decimal number of at most `max`, written as plain digits without a leading zero.
pub fn decimal(text: &str, max: u64) -> Result<u64, NumberError> {
    let go_style = (text.len() > 1 && text.starts_with('0'))
        || (text.contains('_') && text.chars().any(|c| c.is_ascii_digit()));
    if go_style {
        return Err(NumberError::NotPlainDecimal(text.to_owned()));
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotANumber(text.to_owned()));
    }
    match text.parse::<u64>() {
        Ok(value) if value <= max => Ok(value),
        _ => Err(NumberError::TooLarge(text.to_owned(), max)),
    }
}

/// A 4-byte ASN as decimal text (no range rules beyond u32).
pub fn asn(text: &str) -> Result<u32, NumberError> {
    decimal(text, u64::from(u32::MAX)).map(|v| v as u32)
}

/// kube-router's `validateASN()` for peer ASNs: 1–23455, 23457–63999, 64512–65534,
/// 131072–4199999999 and 4200000000–4294967294. So 0, 23456 (AS_TRANS), 64000–64511 (the
/// RFC 5398 documentation ASNs 64496–64511 included), 65535, 65536–131071 and 4294967295 are
/// refused, exactly as kube-router refuses them.
pub fn is_allowed_peer_asn(asn: u32) -> bool {
    matches!(asn, 1..=23455 | 23457..=63999 | 64512..=65534 | 131_072..=4_294_967_294)
}

/// The message for a peer ASN kube-router refuses, in kube-router's words.
pub fn reserved_peer_asn(asn: u32) -> String {
    format!(
        "reserved ASN number \"{asn}\" (kube-router refuses 0, 23456, 64000-64511, 65535, \
         65536-131071 and 4294967295 for peers)"
    )
}

/// Whether the host accepts `asn` as the local ASN (0, AS_TRANS and 4294967295 it refuses).
pub fn is_usable_local_asn(asn: u32) -> bool {
    !matches!(asn, 0 | 23456 | u32::MAX)
}

/// A port: decimal 1..=65535.
pub fn port(text: &str) -> Result<u16, NumberError> {
    match decimal(text, u64::from(u16::MAX))? {
        0 => Err(NumberError::NotANumber(text.to_owned())),
        port => Ok(port as u16),
    }
}

/// Why a base64 password was refused. The messages never contain the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("not valid base64")]
    NotBase64,
    #[error("the decoded password is not UTF-8 text")]
    NotUtf8,
    #[error("the decoded password is {0} bytes; TCP MD5 allows at most {MAX_PASSWORD_BYTES}")]
    TooLong(usize),
}

/// kube-router's passwords are standard base64, decoded exactly (the docs' own example decodes
/// to `SecurePassword\n`: nothing is stripped). Empty, before or after decoding, = no password.
pub fn password(encoded: &str) -> Result<Option<Password>, PasswordError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| PasswordError::NotBase64)?;
    let text = String::from_utf8(bytes).map_err(|_| PasswordError::NotUtf8)?;
    if text.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong(text.len()));
    }
    Ok((!text.is_empty()).then(|| Password::new(text)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_plain_decimal_numbers() {
        assert_eq!(asn("65000"), Ok(65000));
        assert_eq!(asn("0"), Ok(0));
        assert_eq!(asn("4294967295"), Ok(u32::MAX));
        for go_style in ["065000", "0x10", "0o17", "0b1", "65_000", "00"] {
            assert!(
                matches!(asn(go_style), Err(NumberError::NotPlainDecimal(_))),
                "{go_style}"
            );
        }
        for bad in ["", "-1", "+65000", "65000 ", " 65000", "AS65000", "6.5e4"] {
            assert!(
                matches!(asn(bad), Err(NumberError::NotANumber(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(asn("4294967296"), Err(NumberError::TooLarge(..))));
        assert!(
            NumberError::NotPlainDecimal("065000".into())
                .to_string()
                .contains("octal")
        );
    }

    #[test]
    fn kube_router_peer_asn_ranges() {
        for allowed in [
            1,
            23455,
            23457,
            63999,
            64512,
            65000,
            65534,
            131_072,
            4_294_967_294,
        ] {
            assert!(is_allowed_peer_asn(allowed), "{allowed}");
        }
        for refused in [
            0,
            23456,
            64000,
            64496,
            64500,
            64511,
            65535,
            65536,
            65551,
            131_071,
            4_294_967_295,
        ] {
            assert!(!is_allowed_peer_asn(refused), "{refused}");
        }
        assert!(reserved_peer_asn(64500).contains("reserved ASN number \"64500\""));
    }

    #[test]
    fn ports() {
        assert_eq!(port("179"), Ok(179));
        assert_eq!(port("65535"), Ok(65535));
        assert!(port("0").is_err() && port("65536").is_err() && port("").is_err());
    }

    #[test]
    fn passwords_decode_exactly() {
        let decoded = |b64: &str| password(b64).unwrap().map(|p| p.expose().to_owned());
        assert_eq!(
            decoded("RXhhbXBsZVBhc3MxMjM="),
            Some("ExamplePass123".into())
        );
        // kube-router's docs example, made with `echo`: the newline is part of the password.
        assert_eq!(
            decoded("U2VjdXJlUGFzc3dvcmQK"),
            Some("SecurePassword\n".into())
        );
        assert_eq!(decoded(""), None);
        assert_eq!(password("not base64!"), Err(PasswordError::NotBase64));
        assert_eq!(password("RXhhbXBsZQ"), Err(PasswordError::NotBase64)); // padding required
        assert_eq!(password("/w=="), Err(PasswordError::NotUtf8));
        let long = base64::engine::general_purpose::STANDARD.encode("x".repeat(81));
        assert_eq!(password(&long), Err(PasswordError::TooLong(81)));
        let max = base64::engine::general_purpose::STANDARD.encode("x".repeat(80));
        assert!(password(&max).unwrap().is_some());
    }
}
