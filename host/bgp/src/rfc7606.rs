//! RFC 7606 classification of received UPDATEs, hand-written over the raw bytes.
//!
//! netgauze can skip malformed attributes but does not say which RFC 7606 action
//! applies (session reset, treat-as-withdraw, attribute discard). Herald never installs
//! received routes, so treat-as-withdraw and attribute discard only get counted and
//! logged; what matters is that the session stays up unless the RFC demands a reset.

use netgauze_bgp_pkt::notification::UpdateMessageError;

const ORIGIN: u8 = 1;
const AS_PATH: u8 = 2;
const NEXT_HOP: u8 = 3;
const MED: u8 = 4;
const LOCAL_PREF: u8 = 5;
const ATOMIC_AGGREGATE: u8 = 6;
const AGGREGATOR: u8 = 7;
const COMMUNITIES: u8 = 8;
const ORIGINATOR_ID: u8 = 9;
const CLUSTER_LIST: u8 = 10;
const MP_REACH: u8 = 14;
const MP_UNREACH: u8 = 15;
const AS4_PATH: u8 = 17;
const AS4_AGGREGATOR: u8 = 18;
const LARGE_COMMUNITIES: u8 = 32;

const FLAG_OPTIONAL: u8 = 0x80;
const FLAG_EXTENDED: u8 = 0x10;

/// What RFC 7606 says to do with a received UPDATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateVerdict {
    /// Well-formed.
    Valid,
    /// Some attributes are dropped; the rest of the UPDATE stands (§2 "attribute discard").
    AttributeDiscard {
        /// How many attributes were dropped.
        discarded: usize,
        /// Why, for the log.
        reason: String,
    },
    /// All NLRI in the UPDATE are to be handled as withdrawn (§2 "treat-as-withdraw").
    TreatAsWithdraw {
        /// Why, for the log.
        reason: String,
    },
    /// The NLRI cannot be located: NOTIFICATION and close (§2 "session reset").
    SessionReset {
        /// The NOTIFICATION subcode and data.
        error: UpdateMessageError,
        /// Why, for the log.
        reason: String,
    },
}

impl UpdateVerdict {
    fn severity(&self) -> u8 {
        match self {
            Self::Valid => 0,
            Self::AttributeDiscard { .. } => 1,
            Self::TreatAsWithdraw { .. } => 2,
            Self::SessionReset { .. } => 3,
        }
    }

    fn merge(self, other: Self) -> Self {
        match (self, other) {
            (
                Self::AttributeDiscard {
                    discarded: a,
                    reason,
                },
                Self::AttributeDiscard { discarded: b, .. },
            ) => Self::AttributeDiscard {
                discarded: a + b,
                reason,
            },
            (a, b) if b.severity() > a.severity() => b,
            (a, _) => a,
        }
    }
}

fn reset(error: UpdateMessageError, reason: impl Into<String>) -> UpdateVerdict {
    UpdateVerdict::SessionReset {
        error,
        reason: reason.into(),
    }
}

fn withdraw(reason: impl Into<String>) -> UpdateVerdict {
    UpdateVerdict::TreatAsWithdraw {
        reason: reason.into(),
    }
}

fn discard(reason: impl Into<String>) -> UpdateVerdict {
    UpdateVerdict::AttributeDiscard {
        discarded: 1,
        reason: reason.into(),
    }
}

fn read_u16(bytes: &[u8], at: usize) -> Option<usize> {
    let hi = *bytes.get(at)?;
    let lo = *bytes.get(at + 1)?;
    Some(usize::from(u16::from_be_bytes([hi, lo])))
}

/// Checks a prefix list (RFC 4271 §4.3 encoding). Returns the number of prefixes.
fn check_prefixes(bytes: &[u8], max_len: u8) -> Option<usize> {
    let mut at = 0;
    let mut count = 0;
    while at < bytes.len() {
        let len = bytes[at];
        if len > max_len {
            return None;
        }
        at += 1 + usize::from(len).div_ceil(8);
        count += 1;
    }
    (at == bytes.len()).then_some(count)
}

fn max_prefix_len(afi: usize, safi: u8) -> Option<u8> {
    match (afi, safi) {
        (1, 1) => Some(32),
        (2, 1) => Some(128),
        _ => None,
    }
}

/// Classifies the body (everything after the 19-byte header) of an UPDATE.
pub fn check_update(body: &[u8], asn4: bool, ibgp: bool) -> UpdateVerdict {
    let malformed_list = || UpdateMessageError::MalformedAttributeList {
        value: Box::new([]),
    };
    let Some(withdrawn_len) = read_u16(body, 0) else {
        return reset(malformed_list(), "UPDATE too short");
    };
    let attrs_start = 2 + withdrawn_len + 2;
    let Some(attrs_len) = read_u16(body, 2 + withdrawn_len) else {
        return reset(
            malformed_list(),
            "withdrawn routes length exceeds the message",
        );
    };
    if attrs_start + attrs_len > body.len() {
        return reset(
            malformed_list(),
            "total path attribute length exceeds the message",
        );
    }
    let invalid_network = || UpdateMessageError::InvalidNetworkField {
        value: Box::new([]),
    };
    if check_prefixes(&body[2..2 + withdrawn_len], 32).is_none() {
        return reset(invalid_network(), "malformed withdrawn routes");
    }
    let nlri = &body[attrs_start + attrs_len..];
    let Some(nlri_count) = check_prefixes(nlri, 32) else {
        return reset(invalid_network(), "malformed NLRI");
    };
    check_attributes(
        &body[attrs_start..attrs_start + attrs_len],
        nlri_count > 0,
        asn4,
        ibgp,
    )
}

fn check_attributes(attrs: &[u8], has_nlri: bool, asn4: bool, ibgp: bool) -> UpdateVerdict {
    let mut verdict = UpdateVerdict::Valid;
    let mut seen = [false; 256];
    let mut has_mp_reach = false;
    let mut at = 0;
    while at < attrs.len() {
        let (Some(&flags), Some(&code)) = (attrs.get(at), attrs.get(at + 1)) else {
            return verdict.merge(withdraw("truncated attribute header"));
        };
        let extended = flags & FLAG_EXTENDED != 0;
        let (len, header) = if extended {
            match read_u16(attrs, at + 2) {
                Some(len) => (len, 4),
                None => return verdict.merge(withdraw("truncated attribute length")),
            }
        } else {
            match attrs.get(at + 2) {
                Some(len) => (usize::from(*len), 3),
                None => return verdict.merge(withdraw("truncated attribute length")),
            }
        };
        let value_start = at + header;
        if value_start + len > attrs.len() {
            // §4: the attribute overruns the attribute block; NLRI is still locatable.
            return verdict.merge(withdraw(format!(
                "attribute {code} overruns the attribute list"
            )));
        }
        let value = &attrs[value_start..value_start + len];
        at = value_start + len;
        if seen[usize::from(code)] {
            if code == MP_REACH || code == MP_UNREACH {
                return reset(
                    UpdateMessageError::MalformedAttributeList {
                        value: Box::new([]),
                    },
                    "repeated MP_REACH_NLRI/MP_UNREACH_NLRI",
                );
            }
            verdict = verdict.merge(discard(format!("repeated attribute {code}")));
            continue;
        }
        seen[usize::from(code)] = true;
        if code == MP_REACH {
            has_mp_reach = true;
        }
        let optional = flags & FLAG_OPTIONAL != 0;
        verdict = verdict.merge(check_attribute(code, optional, value, asn4, ibgp));
        if verdict.severity() == 3 {
            return verdict;
        }
    }
    if has_nlri || has_mp_reach {
        for (code, name) in [(ORIGIN, "ORIGIN"), (AS_PATH, "AS_PATH")] {
            if !seen[usize::from(code)] {
                verdict = verdict.merge(withdraw(format!("missing well-known attribute {name}")));
            }
        }
        if has_nlri && !seen[usize::from(NEXT_HOP)] {
            verdict = verdict.merge(withdraw("missing NEXT_HOP"));
        }
    }
    verdict
}

fn check_attribute(
    code: u8,
    optional: bool,
    value: &[u8],
    asn4: bool,
    ibgp: bool,
) -> UpdateVerdict {
    let well_known = matches!(
        code,
        ORIGIN | AS_PATH | NEXT_HOP | LOCAL_PREF | ATOMIC_AGGREGATE
    );
    let known_optional = matches!(
        code,
        MED | AGGREGATOR
            | COMMUNITIES
            | ORIGINATOR_ID
            | CLUSTER_LIST
            | MP_REACH
            | MP_UNREACH
            | AS4_PATH
            | AS4_AGGREGATOR
            | LARGE_COMMUNITIES
    );
    if !well_known && !known_optional {
        if !optional {
            return reset(
                UpdateMessageError::UnrecognizedWellKnownAttribute {
                    value: Box::new([code]),
                },
                format!("unrecognized well-known attribute {code}"),
            );
        }
        return UpdateVerdict::Valid; // unknown optional: passed on or ignored (RFC 4271 §5)
    }
    // §3 (c): a flags error is handled like a malformed value of that attribute.
    let flags_ok = well_known != optional;
    let ok = flags_ok
        && match code {
            ORIGIN => value.len() == 1 && value[0] <= 2,
            AS_PATH => as_path_ok(value, if asn4 { 4 } else { 2 }),
            AS4_PATH => as_path_ok(value, 4),
            NEXT_HOP | MED | LOCAL_PREF | ORIGINATOR_ID => value.len() == 4,
            ATOMIC_AGGREGATE => value.is_empty(),
            AGGREGATOR => value.len() == if asn4 { 8 } else { 6 },
            AS4_AGGREGATOR => value.len() == 8,
            COMMUNITIES | CLUSTER_LIST => value.len().is_multiple_of(4),
            LARGE_COMMUNITIES => value.len().is_multiple_of(12),
            MP_REACH => return check_mp_reach(value),
            MP_UNREACH => return check_mp_unreach(value),
            _ => true,
        };
    if ok {
        return UpdateVerdict::Valid;
    }
    match code {
        ATOMIC_AGGREGATE | AGGREGATOR | AS4_PATH | AS4_AGGREGATOR => {
            discard(format!("malformed attribute {code} discarded"))
        }
        LOCAL_PREF if !ibgp => discard("malformed LOCAL_PREF from an eBGP peer discarded"),
        _ => withdraw(format!("malformed attribute {code}")),
    }
}

fn as_path_ok(mut value: &[u8], asn_size: usize) -> bool {
    while !value.is_empty() {
        let [seg_type, count, rest @ ..] = value else {
            return false;
        };
        let seg_len = usize::from(*count) * asn_size;
        if !(1..=4).contains(seg_type) || *count == 0 || rest.len() < seg_len {
            return false;
        }
        value = &rest[seg_len..];
    }
    true
}

fn mp_reset(reason: &str) -> UpdateVerdict {
    // §7.11: malformed MP_REACH/MP_UNREACH means the NLRI cannot be trusted.
    reset(
        UpdateMessageError::OptionalAttributeError {
            value: Box::new([]),
        },
        reason,
    )
}

fn check_mp_reach(value: &[u8]) -> UpdateVerdict {
    let (Some(afi), Some(&safi), Some(&nh_len)) = (read_u16(value, 0), value.get(2), value.get(3))
    else {
        return mp_reset("MP_REACH_NLRI too short");
    };
    let nlri_start = 4 + usize::from(nh_len) + 1;
    if nlri_start > value.len() {
        return mp_reset("MP_REACH_NLRI next hop overruns the attribute");
    }
    let Some(max_len) = max_prefix_len(afi, safi) else {
        return UpdateVerdict::Valid; // a family we did not negotiate: ignored
    };
    let nh_ok = match afi {
        1 => nh_len == 4 || nh_len == 16 || nh_len == 32,
        _ => nh_len == 16 || nh_len == 32,
    };
    if !nh_ok {
        return withdraw(format!("MP_REACH_NLRI next hop length {nh_len}"));
    }
    match check_prefixes(&value[nlri_start..], max_len) {
        Some(_) => UpdateVerdict::Valid,
        None => mp_reset("malformed MP_REACH_NLRI prefixes"),
    }
}

fn check_mp_unreach(value: &[u8]) -> UpdateVerdict {
    let (Some(afi), Some(&safi)) = (read_u16(value, 0), value.get(2)) else {
        return mp_reset("MP_UNREACH_NLRI too short");
    };
    let Some(max_len) = max_prefix_len(afi, safi) else {
        return UpdateVerdict::Valid;
    };
    match check_prefixes(&value[3..], max_len) {
        Some(_) => UpdateVerdict::Valid,
        None => mp_reset("malformed MP_UNREACH_NLRI prefixes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
        body.extend_from_slice(withdrawn);
        body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        body.extend_from_slice(attrs);
        body.extend_from_slice(nlri);
        body
    }

    const GOOD_ATTRS: &[u8] = &[
        0x40, 1, 1, 0, // ORIGIN IGP
        0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe8, // AS_PATH seq [65000] (asn4)
        0x40, 3, 4, 192, 0, 2, 1, // NEXT_HOP
    ];
    const NLRI: &[u8] = &[32, 198, 51, 100, 7];

    #[test]
    fn valid_update() {
        assert_eq!(
            check_update(&update(&[], GOOD_ATTRS, NLRI), true, false),
            UpdateVerdict::Valid
        );
        assert_eq!(
            check_update(&update(&[], &[], &[]), true, false),
            UpdateVerdict::Valid
        );
    }

    #[test]
    fn bad_origin_is_treat_as_withdraw() {
        let mut attrs = GOOD_ATTRS.to_vec();
        attrs[3] = 7;
        assert!(matches!(
            check_update(&update(&[], &attrs, NLRI), true, false),
            UpdateVerdict::TreatAsWithdraw { .. }
        ));
    }

    #[test]
    fn missing_next_hop_is_treat_as_withdraw() {
        let attrs = &GOOD_ATTRS[..13];
        assert!(matches!(
            check_update(&update(&[], attrs, NLRI), true, false),
            UpdateVerdict::TreatAsWithdraw { .. }
        ));
    }

    #[test]
    fn bad_atomic_aggregate_is_discarded() {
        let mut attrs = GOOD_ATTRS.to_vec();
        attrs.extend_from_slice(&[0x40, 6, 1, 0]);
        assert!(matches!(
            check_update(&update(&[], &attrs, NLRI), true, false),
            UpdateVerdict::AttributeDiscard { .. }
        ));
    }

    #[test]
    fn local_pref_depends_on_session_type() {
        let mut attrs = GOOD_ATTRS.to_vec();
        attrs.extend_from_slice(&[0x40, 5, 2, 0, 1]);
        let body = update(&[], &attrs, NLRI);
        assert!(matches!(
            check_update(&body, true, false),
            UpdateVerdict::AttributeDiscard { .. }
        ));
        assert!(matches!(
            check_update(&body, true, true),
            UpdateVerdict::TreatAsWithdraw { .. }
        ));
    }

    #[test]
    fn overlong_attribute_list_resets() {
        let mut body = update(&[], GOOD_ATTRS, NLRI);
        body[3] = 200;
        assert!(matches!(
            check_update(&body, true, false),
            UpdateVerdict::SessionReset { .. }
        ));
    }

    #[test]
    fn attribute_overrunning_list_is_treat_as_withdraw() {
        let mut attrs = GOOD_ATTRS.to_vec();
        attrs.extend_from_slice(&[0xc0, 8, 40, 0, 0]);
        assert!(matches!(
            check_update(&update(&[], &attrs, NLRI), true, false),
            UpdateVerdict::TreatAsWithdraw { .. }
        ));
    }

    #[test]
    fn bad_nlri_resets() {
        assert!(matches!(
            check_update(&update(&[], GOOD_ATTRS, &[33, 1, 2, 3, 4, 5]), true, false),
            UpdateVerdict::SessionReset { .. }
        ));
    }

    #[test]
    fn repeated_mp_reach_resets() {
        let mp = [0x80, 14, 5, 0, 2, 1, 0, 0];
        let mut attrs = GOOD_ATTRS.to_vec();
        attrs.extend_from_slice(&mp);
        attrs.extend_from_slice(&mp);
        assert!(matches!(
            check_update(&update(&[], &attrs, &[]), true, false),
            UpdateVerdict::SessionReset { .. }
        ));
    }
}
