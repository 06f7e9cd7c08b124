//! `herald:provider@0.1.0` ↔ host types. A 0.1.0 provider never sees the node's network and
//! returns no keepalive.

use super::{RawPeer, pairs};
use crate::bindings::since_v0_1_0::herald::provider::types as wit;
use crate::errors::{CallError, ProviderErrorKind};
use crate::types::{Discovery, NodeContext};

pub(crate) fn node_to_wit(node: &NodeContext) -> wit::NodeContext {
    wit::NodeContext {
        node_name: node.node_name.clone(),
        provider_id: node.provider_id.clone(),
        annotations: pairs(&node.annotations),
        labels: pairs(&node.labels),
    }
}

same_errors_and_discovery!();

impl From<wit::BgpPeer> for RawPeer {
    fn from(peer: wit::BgpPeer) -> Self {
        Self {
            peer_address: peer.peer_address,
            peer_asn: peer.peer_asn,
            local_asn: peer.local_asn,
            source_address: peer.source_address,
            password: peer.password,
            multihop_ttl: peer.multihop_ttl,
            route_via: peer.route_via,
            hold_time_seconds: peer.hold_time_seconds,
            port: peer.port,
            keepalive_seconds: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_0_1_0_peer_has_no_keepalive_and_is_checked_alike() {
        let peer = |address: &str, hold| wit::BgpPeer {
            peer_address: address.into(),
            peer_asn: 65530,
            local_asn: 65000,
            source_address: Some("192.0.2.2".into()),
            password: None,
            multihop_ttl: None,
            route_via: None,
            hold_time_seconds: hold,
            port: None,
        };
        let identity = "provider \"p\" 0.1.0";
        let ok = discovery_from_wit(
            identity,
            wit::Discovery {
                peers: vec![peer("192.0.2.1", Some(9))],
                refresh_after_seconds: None,
            },
        )
        .unwrap();
        assert_eq!(ok.peers[0].keepalive_seconds, None);
        assert_eq!(ok.peers[0].hold_time_seconds, Some(9));
        let bad = discovery_from_wit(
            identity,
            wit::Discovery {
                peers: vec![peer("192.0.2.1", None), peer("192.0.2.300", None)],
                refresh_after_seconds: None,
            },
        )
        .unwrap_err();
        assert!(matches!(
            bad,
            CallError::InvalidOutput {
                peer_index: 1,
                field: "peer_address",
                ..
            }
        ));
    }
}
