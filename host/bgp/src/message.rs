//! Building the messages Herald sends and reading the ones it receives (OPEN
//! negotiation, NOTIFICATION wording, UPDATE summaries). Wire encoding is netgauze's.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use netgauze_bgp_pkt::BgpMessage;
use netgauze_bgp_pkt::capabilities::{
    BgpCapability, FourOctetAsCapability, GracefulRestartAddressFamily, GracefulRestartCapability,
    MultiProtocolExtensionsCapability,
};
use netgauze_bgp_pkt::iana::RouteRefreshSubcode;
use netgauze_bgp_pkt::notification::{
    BgpNotificationMessage, CeaseError, FiniteStateMachineError, HoldTimerExpiredError,
    OpenMessageError,
};
use netgauze_bgp_pkt::open::{BgpOpenMessage, BgpOpenMessageParameter};
use netgauze_bgp_pkt::path_attribute::{MpReach, MpUnreach, PathAttributeValue};
use netgauze_bgp_pkt::route_refresh::BgpRouteRefreshMessage;
use netgauze_bgp_pkt::update::BgpUpdateMessage;
use netgauze_iana::address_family::AddressType;

use crate::codec::{self, FatalError};
use crate::config::RouteAttributes;

/// AS_TRANS (RFC 6793): the 2-octet stand-in for a 4-octet ASN.
pub const AS_TRANS: u16 = 23456;
/// RFC 4724: the restart time is a 12-bit field.
pub const MAX_RESTART_TIME: u16 = 4095;
/// RFC 9003 limit of the shutdown communication, in bytes.
pub const MAX_SHUTDOWN_COMMUNICATION: usize = 255;

/// What we put in our OPEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenParams {
    /// Our ASN for this session.
    pub local_asn: u32,
    /// Hold time we offer.
    pub hold_time: u16,
    /// Our BGP identifier.
    pub router_id: Ipv4Addr,
    /// Graceful restart: (restart time, restart-state "R" bit).
    pub graceful_restart: Option<(u16, bool)>,
}

/// The address families Herald speaks.
pub const FAMILIES: [AddressType; 2] = [AddressType::Ipv4Unicast, AddressType::Ipv6Unicast];

/// Our OPEN: 4-octet ASN, MP IPv4+IPv6 unicast, route refresh, and graceful restart
/// (with the forwarding-state bit for both families) when configured.
pub fn open(params: &OpenParams) -> BgpMessage {
    let my_as = u16::try_from(params.local_asn).unwrap_or(AS_TRANS);
    let mut caps = vec![
        BgpCapability::MultiProtocolExtensions(MultiProtocolExtensionsCapability::new(
            AddressType::Ipv4Unicast,
        )),
        BgpCapability::MultiProtocolExtensions(MultiProtocolExtensionsCapability::new(
            AddressType::Ipv6Unicast,
        )),
        BgpCapability::RouteRefresh,
        BgpCapability::FourOctetAs(FourOctetAsCapability::new(params.local_asn)),
    ];
    if let Some((time, restarting)) = params.graceful_restart {
        let families: Vec<_> = FAMILIES
            .iter()
            .map(|f| GracefulRestartAddressFamily::new(true, *f))
            .collect();
        caps.push(BgpCapability::GracefulRestartCapability(
            GracefulRestartCapability::new(restarting, false, time.min(MAX_RESTART_TIME), families),
        ));
    }
    BgpMessage::Open(BgpOpenMessage::new(
        my_as,
        params.hold_time,
        params.router_id,
        vec![BgpOpenMessageParameter::new_capabilities(caps)],
    ))
}

/// What both OPENs together allow on this session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Both sides speak 4-octet ASNs.
    pub asn4: bool,
    /// min(our hold time, theirs); 0 means no keepalives.
    pub hold_time: u16,
    /// IPv4 unicast may be sent.
    pub ipv4_unicast: bool,
    /// IPv6 unicast may be sent.
    pub ipv6_unicast: bool,
    /// The peer understands ROUTE-REFRESH.
    pub route_refresh: bool,
    /// The peer announced graceful restart (it may keep our routes if we drop).
    pub peer_graceful_restart: bool,
    /// The peer's identifier.
    pub peer_router_id: Ipv4Addr,
}

fn open_error(err: OpenMessageError, reason: String) -> FatalError {
    FatalError {
        notification: BgpNotificationMessage::OpenMessageError(err),
        reason,
    }
}

/// Validates the peer's OPEN (RFC 4271 §6.2) against what we expect.
pub fn negotiate(
    ours: &OpenParams,
    peer: &BgpOpenMessage,
    expected_peer_asn: u32,
) -> Result<Negotiated, FatalError> {
    if peer.version() != 4 {
        return Err(open_error(
            OpenMessageError::UnsupportedVersionNumber {
                value: Box::new(4u16.to_be_bytes()),
            },
            format!("peer speaks BGP version {}", peer.version()),
        ));
    }
    let caps = peer.capabilities();
    let asn4 = caps
        .iter()
        .any(|c| matches!(c, BgpCapability::FourOctetAs(_)));
    let peer_asn = peer.my_asn4();
    if peer_asn != expected_peer_asn {
        return Err(open_error(
            OpenMessageError::BadPeerAs {
                value: Box::new(peer.my_as().to_be_bytes()),
            },
            format!("peer AS {peer_asn} is not the configured {expected_peer_asn}"),
        ));
    }
    if peer.hold_time() == 1 || peer.hold_time() == 2 {
        return Err(open_error(
            OpenMessageError::UnacceptableHoldTime {
                value: Box::new([]),
            },
            format!("unacceptable hold time {}", peer.hold_time()),
        ));
    }
    let ibgp = peer_asn == ours.local_asn;
    if peer.bgp_id().is_unspecified() || (ibgp && peer.bgp_id() == ours.router_id) {
        return Err(open_error(
            OpenMessageError::BadBgpIdentifier {
                value: Box::new(peer.bgp_id().octets()),
            },
            format!("bad BGP identifier {}", peer.bgp_id()),
        ));
    }
    let mp: Vec<AddressType> = caps
        .iter()
        .filter_map(|c| match c {
            BgpCapability::MultiProtocolExtensions(mp) => Some(mp.address_type()),
            _ => None,
        })
        .collect();
    // RFC 4760: a peer without any MP capability speaks IPv4 unicast only.
    let ipv4_unicast = mp.is_empty() || mp.contains(&AddressType::Ipv4Unicast);
    let ipv6_unicast = mp.contains(&AddressType::Ipv6Unicast);
    Ok(Negotiated {
        asn4,
        hold_time: ours.hold_time.min(peer.hold_time()),
        ipv4_unicast,
        ipv6_unicast,
        route_refresh: caps.iter().any(|c| {
            matches!(
                c,
                BgpCapability::RouteRefresh | BgpCapability::EnhancedRouteRefresh
            )
        }),
        peer_graceful_restart: caps
            .iter()
            .any(|c| matches!(c, BgpCapability::GracefulRestartCapability(_))),
        peer_router_id: peer.bgp_id(),
    })
}

/// RFC 8203/9003 shutdown communication: a length octet and up to 255 bytes of UTF-8,
/// cut at a character boundary.
pub fn shutdown_communication(text: &str) -> Box<[u8]> {
    let mut end = text.len().min(MAX_SHUTDOWN_COMMUNICATION);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut value = Vec::with_capacity(end + 1);
    // invariant: end <= 255.
    value.push(end as u8);
    value.extend_from_slice(&text.as_bytes()[..end]);
    value.into_boxed_slice()
}

/// Reads a shutdown communication back; `None` when the data is not one.
pub fn parse_shutdown_communication(value: &[u8]) -> Option<String> {
    let (&len, rest) = value.split_first()?;
    let text = rest.get(..usize::from(len))?;
    std::str::from_utf8(text).ok().map(str::to_owned)
}

/// Cease / Administrative Shutdown with a shutdown communication.
pub fn administrative_shutdown(text: &str) -> BgpNotificationMessage {
    BgpNotificationMessage::CeaseError(CeaseError::AdministrativeShutdown {
        value: shutdown_communication(text),
    })
}

/// Cease / Peer De-configured.
pub fn peer_deconfigured(text: &str) -> BgpNotificationMessage {
    BgpNotificationMessage::CeaseError(CeaseError::PeerDeConfigured {
        value: shutdown_communication(text),
    })
}

/// Cease / Other Configuration Change.
pub fn configuration_changed() -> BgpNotificationMessage {
    BgpNotificationMessage::CeaseError(CeaseError::OtherConfigurationChange {
        value: Box::new([]),
    })
}

/// Hold Timer Expired.
pub fn hold_timer_expired() -> BgpNotificationMessage {
    BgpNotificationMessage::HoldTimerExpiredError(HoldTimerExpiredError::Unspecific {
        sub_code: 0,
        value: Box::new([]),
    })
}

/// RFC 6608 FSM error for a message that is not allowed in the current state.
pub fn unexpected_message(open_sent: bool) -> BgpNotificationMessage {
    let value: Box<[u8]> = Box::new([]);
    BgpNotificationMessage::FiniteStateMachineError(if open_sent {
        FiniteStateMachineError::ReceiveUnexpectedMessageInOpenSentState { value }
    } else {
        FiniteStateMachineError::ReceiveUnexpectedMessageInOpenConfirmState { value }
    })
}

/// ROUTE-REFRESH request for a family.
pub fn route_refresh(family: AddressType) -> BgpMessage {
    BgpMessage::RouteRefresh(BgpRouteRefreshMessage::new(
        family,
        RouteRefreshSubcode::NormalRequest,
    ))
}

/// A NOTIFICATION in words, e.g. `Cease/Administrative Shutdown: "maintenance"`.
pub fn describe_notification(notification: &BgpNotificationMessage) -> String {
    let Ok(wire) = codec::encode_to_bytes(&BgpMessage::Notification(notification.clone())) else {
        return format!("{notification:?}");
    };
    let (code, subcode, data) = (wire[19], wire[20], &wire[21..]);
    let code_name = match code {
        1 => "Message Header Error",
        2 => "OPEN Message Error",
        3 => "UPDATE Message Error",
        4 => "Hold Timer Expired",
        5 => "Finite State Machine Error",
        6 => "Cease",
        7 => "ROUTE-REFRESH Message Error",
        _ => "Unknown",
    };
    let sub_name = match (code, subcode) {
        (6, 1) => "Maximum Number of Prefixes Reached",
        (6, 2) => "Administrative Shutdown",
        (6, 3) => "Peer De-configured",
        (6, 4) => "Administrative Reset",
        (6, 5) => "Connection Rejected",
        (6, 6) => "Other Configuration Change",
        (6, 7) => "Connection Collision Resolution",
        (6, 8) => "Out of Resources",
        (6, 9) => "Hard Reset",
        (1, 1) => "Connection Not Synchronized",
        (1, 2) => "Bad Message Length",
        (1, 3) => "Bad Message Type",
        (2, 1) => "Unsupported Version Number",
        (2, 2) => "Bad Peer AS",
        (2, 3) => "Bad BGP Identifier",
        (2, 6) => "Unacceptable Hold Time",
        (3, 1) => "Malformed Attribute List",
        (3, 2) => "Unrecognized Well-known Attribute",
        (3, 3) => "Missing Well-known Attribute",
        (3, 10) => "Invalid Network Field",
        _ => "",
    };
    let mut out = if sub_name.is_empty() {
        format!("{code_name} (code {code}, subcode {subcode})")
    } else {
        format!("{code_name}/{sub_name}")
    };
    if code == 6
        && (subcode == 2 || subcode == 4)
        && let Some(text) = parse_shutdown_communication(data)
        && !text.is_empty()
    {
        out.push_str(&format!(": {text:?}"));
    }
    out
}

/// The routes and attributes an UPDATE carries, independent of encoding details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateSummary {
    /// Reachable prefixes (IPv4 NLRI and MP_REACH IPv6).
    pub announced: Vec<IpNet>,
    /// Withdrawn prefixes (IPv4 withdrawn routes and MP_UNREACH IPv6).
    pub withdrawn: Vec<IpNet>,
    /// Attributes as Herald models them.
    pub attributes: RouteAttributes,
    /// AS_PATH flattened.
    pub as_path: Vec<u32>,
    /// NEXT_HOP attribute.
    pub next_hop_v4: Option<Ipv4Addr>,
    /// MP_REACH IPv6 global next hop.
    pub next_hop_v6: Option<Ipv6Addr>,
    /// Family of an End-of-RIB marker.
    pub end_of_rib: Option<AddressType>,
}

/// Summarises a decoded UPDATE (used to count received prefixes and in tests).
pub fn summarize(update: &BgpUpdateMessage) -> UpdateSummary {
    let mut out = UpdateSummary {
        end_of_rib: update.end_of_rib(),
        ..UpdateSummary::default()
    };
    out.withdrawn.extend(
        update
            .withdraw_routes()
            .iter()
            .map(|a| IpNet::V4(a.network().address())),
    );
    out.announced.extend(
        update
            .nlri()
            .iter()
            .map(|a| IpNet::V4(a.network().address())),
    );
    for attr in update.path_attributes() {
        match attr.value() {
            PathAttributeValue::AsPath(path) => out.as_path = Vec::<u32>::from(path.clone()),
            PathAttributeValue::NextHop(nh) => out.next_hop_v4 = Some(nh.next_hop()),
            PathAttributeValue::MultiExitDiscriminator(med) => {
                out.attributes.med = Some(med.metric())
            }
            PathAttributeValue::LocalPreference(lp) => {
                out.attributes.local_pref = Some(lp.metric())
            }
            PathAttributeValue::Communities(c) => {
                out.attributes.communities = c.communities().iter().map(|c| c.value()).collect();
            }
            PathAttributeValue::LargeCommunities(c) => {
                out.attributes.large_communities = c
                    .communities()
                    .iter()
                    .map(|c| (c.global_admin(), c.local_data1(), c.local_data2()))
                    .collect();
            }
            PathAttributeValue::MpReach(MpReach::Ipv6Unicast {
                next_hop_global,
                nlri,
                ..
            }) => {
                out.next_hop_v6 = Some(*next_hop_global);
                out.announced
                    .extend(nlri.iter().map(|a| IpNet::V6(a.network().address())));
            }
            PathAttributeValue::MpReach(MpReach::Ipv4Unicast { nlri, .. }) => {
                out.announced
                    .extend(nlri.iter().map(|a| IpNet::V4(a.network().address())));
            }
            PathAttributeValue::MpUnreach(MpUnreach::Ipv6Unicast { nlri }) => {
                out.withdrawn
                    .extend(nlri.iter().map(|a| IpNet::V6(a.network().address())));
            }
            PathAttributeValue::MpUnreach(MpUnreach::Ipv4Unicast { nlri }) => {
                out.withdrawn
                    .extend(nlri.iter().map(|a| IpNet::V4(a.network().address())));
            }
            _ => {}
        }
    }
    out
}

/// Normalises a prefix (host bits cleared), as the table keys it.
pub fn normalize(prefix: IpNet) -> IpNet {
    prefix.trunc()
}
