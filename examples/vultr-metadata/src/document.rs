//! Vultr's `v1.json` metadata document → BGP sessions, one per address family that is on.
//!
//! The document is read as a loose `serde_json::Value`, not a typed struct: Vultr's fields are
//! strings (ASNs included), and a wrong type must be an error naming the field
//! (`bgp.ipv4.my-asn`), not a generic "invalid type at line 3".

use std::net::IpAddr;

use herald_sdk::ProviderError;
use serde_json::{Map, Value};

/// The four keys of `bgp.ipv4` / `bgp.ipv6`, in the order errors report them.
const SESSION_KEYS: [&str; 4] = ["my-address", "my-asn", "peer-address", "peer-asn"];

/// An address family of the BGP session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    fn key(self) -> &'static str {
        match self {
            Self::V4 => "ipv4",
            Self::V6 => "ipv6",
        }
    }

    fn matches(self, address: IpAddr) -> bool {
        matches!(
            (self, address),
            (Self::V4, IpAddr::V4(_)) | (Self::V6, IpAddr::V6(_))
        )
    }
}

/// One BGP session as the metadata describes it (the password and TTL come from config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub family: Family,
    pub peer_address: IpAddr,
    pub peer_asn: u32,
    pub local_asn: u32,
    pub source_address: IpAddr,
}

/// What the document says about the instance, besides the sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Instance {
    /// `instance-v2-id`: the id in Node `spec.providerID` (`vultr://<id>`).
    pub v2_id: Option<String>,
    pub hostname: Option<String>,
}

/// The document's sessions: IPv4 first, then IPv6; empty when BGP is off. Errors are
/// `invalid-input` naming the field (`bgp.ipv6.my-address`).
pub fn read(document: &Value) -> Result<(Instance, Vec<Session>), ProviderError> {
    let Some(top) = document.as_object() else {
        return Err(invalid(format!(
            "the document is a JSON {}, not an object",
            type_name(document)
        )));
    };
    let instance = Instance {
        v2_id: optional_string(top, "instance-v2-id", "instance-v2-id")?,
        hostname: optional_string(top, "hostname", "hostname")?,
    };
    // Several clouds answer on 169.254.169.254: a document with neither Vultr's ids nor `bgp`
    // is someone else's, and must not be read as "BGP off".
    if !["bgp", "instance-v2-id", "instanceid"]
        .iter()
        .any(|key| top.contains_key(*key))
    {
        return Err(invalid(
            "not a Vultr metadata document (no bgp, instance-v2-id or instanceid): is this a Vultr instance?"
                .to_owned(),
        ));
    }
    let bgp = match top.get("bgp") {
        None | Some(Value::Null) => return Ok((instance, Vec::new())),
        Some(Value::Object(bgp)) => bgp,
        Some(other) => {
            return Err(invalid(format!(
                "bgp is a JSON {}, not an object",
                type_name(other)
            )));
        }
    };
    let mut sessions = Vec::new();
    for family in [Family::V4, Family::V6] {
        if let Some(session) = session(bgp, family)? {
            sessions.push(session);
        }
    }
    Ok((instance, sessions))
}

/// A family is on when its four strings are set, off when the object is missing or all four
/// are `""`; anything in between is an error naming the first empty key.
fn session(bgp: &Map<String, Value>, family: Family) -> Result<Option<Session>, ProviderError> {
    let path = format!("bgp.{}", family.key());
    let fields = match bgp.get(family.key()) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(fields)) => fields,
        Some(other) => {
            return Err(invalid(format!(
                "{path} is a JSON {}, not an object",
                type_name(other)
            )));
        }
    };
    let mut values = [""; 4];
    for (slot, key) in values.iter_mut().zip(SESSION_KEYS) {
        *slot = match fields.get(key) {
            None | Some(Value::Null) => "",
            Some(Value::String(text)) => text.trim(),
            // Vultr sends ASNs as strings; a number means this is not the document we know.
            Some(other) => {
                return Err(invalid(format!(
                    "{path}.{key} is a JSON {}, expected a string",
                    type_name(other)
                )));
            }
        };
    }
    if values.iter().all(|v| v.is_empty()) {
        return Ok(None);
    }
    if let Some(empty) = SESSION_KEYS.iter().zip(values).find(|(_, v)| v.is_empty()) {
        return Err(invalid(format!(
            "{path}.{} is empty while other {path} fields are set",
            empty.0
        )));
    }
    let [my_address, my_asn, peer_address, peer_asn] = values;
    Ok(Some(Session {
        family,
        peer_address: address(peer_address, family, &format!("{path}.peer-address"))?,
        peer_asn: asn(peer_asn, &format!("{path}.peer-asn"))?,
        local_asn: asn(my_asn, &format!("{path}.my-asn"))?,
        source_address: address(my_address, family, &format!("{path}.my-address"))?,
    }))
}

/// Parses an address of the session's family; the typed value prints normalised (Vultr writes
/// IPv6 with leading zeros).
fn address(text: &str, family: Family, what: &str) -> Result<IpAddr, ProviderError> {
    let address: IpAddr = text
        .parse()
        .map_err(|_| invalid(format!("{what}: {text:?} is not an IP address")))?;
    if !family.matches(address) {
        return Err(invalid(format!(
            "{what}: {address} is not an {} address",
            match family {
                Family::V4 => "IPv4",
                Family::V6 => "IPv6",
            }
        )));
    }
    Ok(address)
}

/// A decimal ASN string. 0, 23456 (AS_TRANS) and 4294967295 are refused here, with the field
/// named, rather than later by the host.
fn asn(text: &str, what: &str) -> Result<u32, ProviderError> {
    let parsed = text
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| text.parse::<u32>().ok())
        .flatten();
    match parsed {
        Some(0 | 23456 | u32::MAX) => Err(invalid(format!("{what}: {text} is a reserved ASN"))),
        Some(asn) => Ok(asn),
        None => Err(invalid(format!(
            "{what}: {text:?} is not an ASN (a decimal number up to 4294967294)"
        ))),
    }
}

fn optional_string(
    top: &Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<String>, ProviderError> {
    match top.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty())),
        Some(other) => Err(invalid(format!(
            "{what} is a JSON {}, expected a string",
            type_name(other)
        ))),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn invalid(message: String) -> ProviderError {
    ProviderError::InvalidInput(message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sessions(json: &str) -> Result<Vec<Session>, ProviderError> {
        read(&serde_json::from_str(json).unwrap()).map(|(_, sessions)| sessions)
    }

    fn invalid_naming(json: &str, field: &str) {
        match sessions(json) {
            Err(ProviderError::InvalidInput(message)) => {
                assert!(message.contains(field), "{field} not in {message:?}");
            }
            other => panic!("expected invalid-input naming {field}, got {other:?}"),
        }
    }

    const V4: &str = r#""ipv4":{"my-address":"192.0.2.20","my-asn":"65512","peer-address":"169.254.169.254","peer-asn":"64515"}"#;

    #[test]
    fn missing_family_object_is_off() {
        let found = sessions(&format!(r#"{{"instanceid":"1","bgp":{{{V4}}}}}"#)).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].family, Family::V4);
        assert!(
            sessions(r#"{"instanceid":"1","bgp":{}}"#)
                .unwrap()
                .is_empty()
        );
        assert!(
            sessions(r#"{"instanceid":"1","bgp":null}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn half_filled_family_names_the_first_empty_key() {
        invalid_naming(
            r#"{"bgp":{"ipv6":{"my-address":"","my-asn":"65513","peer-address":"2001:19f0:ffff::1","peer-asn":"64515"}}}"#,
            "bgp.ipv6.my-address",
        );
        invalid_naming(
            r#"{"bgp":{"ipv4":{"my-address":"192.0.2.20","my-asn":"65512","peer-address":"169.254.169.254"}}}"#,
            "bgp.ipv4.peer-asn",
        );
    }

    #[test]
    fn asns_must_be_decimal_strings() {
        let with = |asn: &str| {
            format!(
                r#"{{"bgp":{{"ipv4":{{"my-address":"192.0.2.20","my-asn":{asn},"peer-address":"169.254.169.254","peer-asn":"64515"}}}}}}"#
            )
        };
        invalid_naming(&with("65512"), "bgp.ipv4.my-asn"); // a JSON number
        for bad in [r#""AS65512""#, r#""-1""#, r#""+65512""#, r#""4294967296""#] {
            invalid_naming(&with(bad), "bgp.ipv4.my-asn");
        }
        for reserved in [r#""0""#, r#""23456""#, r#""4294967295""#] {
            invalid_naming(&with(reserved), "bgp.ipv4.my-asn");
        }
        let four_byte = sessions(&with(r#""4200000001""#)).unwrap();
        assert_eq!(four_byte[0].local_asn, 4_200_000_001);
    }

    #[test]
    fn addresses_must_parse_and_match_the_family() {
        invalid_naming(
            r#"{"bgp":{"ipv4":{"my-address":"192.0.2.20","my-asn":"65512","peer-address":"2001:19f0:ffff::1","peer-asn":"64515"}}}"#,
            "bgp.ipv4.peer-address",
        );
        invalid_naming(
            r#"{"bgp":{"ipv6":{"my-address":"192.0.2.20","my-asn":"65512","peer-address":"2001:19f0:ffff::1","peer-asn":"64515"}}}"#,
            "bgp.ipv6.my-address",
        );
        invalid_naming(
            r#"{"bgp":{"ipv4":{"my-address":"192.0.2","my-asn":"65512","peer-address":"169.254.169.254","peer-asn":"64515"}}}"#,
            "bgp.ipv4.my-address",
        );
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        invalid_naming(r#"{"instanceid":"1","bgp":[]}"#, "bgp is a JSON array");
        invalid_naming(r#"{"bgp":{"ipv4":"on"}}"#, "bgp.ipv4 is a JSON string");
        invalid_naming(r#"{"bgp":{},"hostname":7}"#, "hostname");
        invalid_naming("[]", "not an object");
    }

    #[test]
    fn a_foreign_document_is_not_bgp_off() {
        invalid_naming(
            r#"{"compute":{"vmId":"x"},"network":{}}"#,
            "not a Vultr metadata document",
        );
    }
}
