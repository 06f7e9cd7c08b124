//! Peers a provider found, as the agent's [`PeerSpec`]s, merged with the peers from the flags.

use std::collections::BTreeMap;
use std::net::IpAddr;

use herald_runtime::BgpPeer;
use tracing::warn;

use crate::config::{DEFAULT_PORT, FlagSettings, PeerSpec};
use crate::secret::Secret;

/// A provider's peer with the flags' defaults for what it leaves open (hold time, keepalive).
pub fn peer_spec(peer: &BgpPeer, flags: &FlagSettings) -> PeerSpec {
    let hold_time = peer.hold_time_seconds.unwrap_or(flags.hold_time);
    // The flags' keepalive belongs to the flags' hold time; a peer's own hold time gets a third.
    // A keepalive of the provider's own is kept as given (the runtime checked it against the
    // peer's hold time; the speaker caps it at a third of the negotiated one). No hold time
    // means no keepalives at all.
    let keepalive = match (peer.hold_time_seconds, peer.keepalive_seconds) {
        _ if hold_time == 0 => 0,
        (_, Some(keepalive)) => keepalive,
        (None, None) => flags.keepalive,
        (Some(hold), None) => (hold / 3).clamp(1, flags.keepalive.max(1)),
    };
    PeerSpec {
        address: peer.peer_address,
        port: peer.port.unwrap_or(DEFAULT_PORT),
        asn: peer.peer_asn,
        local_asn: Some(peer.local_asn),
        password: peer
            .password
            .as_ref()
            .map(|password| Secret::new(password.expose())),
        multihop_ttl: peer.multihop_ttl,
        source_address: peer.source_address,
        route_via: peer.route_via,
        hold_time,
        keepalive,
    }
}

/// Every peer by address: the provider's, then the flags' (an operator's explicit peer wins over a
/// discovered one at the same address).
pub fn merge_peers(
    discovered: &[PeerSpec],
    static_peers: &[PeerSpec],
) -> BTreeMap<IpAddr, PeerSpec> {
    let mut peers: BTreeMap<IpAddr, PeerSpec> = discovered
        .iter()
        .map(|peer| (peer.address, peer.clone()))
        .collect();
    for peer in static_peers {
        if peers.insert(peer.address, peer.clone()).is_some() {
            warn!(peer = %peer.address, "peer given on the command line and found by the provider: the command line wins");
        }
    }
    peers
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use herald_runtime::Password;

    use super::*;

    fn flags() -> FlagSettings {
        FlagSettings {
            router_id: None,
            local_asn: None,
            graceful_restart_time: None,
            static_peers: Vec::new(),
            vips: Vec::new(),
            interface: "lo".into(),
            vip_addresses: true,
            shutdown_timeout: Duration::from_secs(5),
            hold_time: 30,
            keepalive: 10,
            multihop_ttl: 2,
        }
    }

    fn provider_peer(address: &str) -> BgpPeer {
        BgpPeer {
            peer_address: address.parse().unwrap(),
            peer_asn: 65530,
            local_asn: 65000,
            source_address: Some("192.0.2.2".parse().unwrap()),
            password: Some(Password::new("md5-secret")),
            multihop_ttl: Some(2),
            route_via: Some("192.0.2.1".parse().unwrap()),
            hold_time_seconds: None,
            port: None,
            keepalive_seconds: None,
        }
    }

    #[test]
    fn every_field_of_the_provider_peer_is_kept() {
        let spec = peer_spec(&provider_peer("169.254.255.1"), &flags());
        assert_eq!(spec.local_asn, Some(65000));
        assert_eq!(spec.asn, 65530);
        assert_eq!(spec.port, 179);
        assert_eq!(spec.source_address, Some("192.0.2.2".parse().unwrap()));
        assert_eq!(spec.route_via, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(spec.multihop_ttl, Some(2));
        assert_eq!(
            spec.password.as_ref().map(Secret::expose),
            Some("md5-secret")
        );
        assert_eq!((spec.hold_time, spec.keepalive), (30, 10));
    }

    #[test]
    fn a_peer_hold_time_gets_a_matching_keepalive() {
        let mut peer = provider_peer("169.254.255.1");
        peer.hold_time_seconds = Some(9);
        peer.port = Some(1179);
        let spec = peer_spec(&peer, &flags());
        assert_eq!((spec.hold_time, spec.keepalive, spec.port), (9, 3, 1179));
        peer.hold_time_seconds = Some(0);
        assert_eq!(peer_spec(&peer, &flags()).keepalive, 0);
    }

    #[test]
    fn a_peer_keepalive_is_kept_and_a_change_replaces_the_peer() {
        let mut peer = provider_peer("169.254.255.1");
        peer.keepalive_seconds = Some(7);
        let first = peer_spec(&peer, &flags());
        assert_eq!((first.hold_time, first.keepalive), (30, 7));
        peer.hold_time_seconds = Some(9);
        peer.keepalive_seconds = Some(2);
        assert_eq!(peer_spec(&peer, &flags()).keepalive, 2);
        peer.hold_time_seconds = Some(0);
        assert_eq!(
            peer_spec(&peer, &flags()).keepalive,
            0,
            "hold 0: no keepalives"
        );

        // The plan compares whole specs: only the keepalive differs, and the peer is replaced.
        let mut changed = provider_peer("169.254.255.1");
        changed.keepalive_seconds = Some(8);
        let changed = peer_spec(&changed, &flags());
        let state = |spec: &PeerSpec| crate::desired::DesiredState {
            peers: [(spec.address, spec.clone())].into(),
            ..crate::desired::DesiredState::default()
        };
        let plan = crate::plan::Plan::between(&state(&first), &state(&changed));
        assert_eq!(plan.peers_to_remove, [first.address]);
        assert_eq!(plan.peers_to_add, [changed]);
    }

    #[test]
    fn static_peers_win_over_discovered_ones() {
        let discovered = [
            peer_spec(&provider_peer("169.254.255.1"), &flags()),
            peer_spec(&provider_peer("169.254.255.2"), &flags()),
        ];
        let mut operator = discovered[0].clone();
        operator.asn = 64999;
        let merged = merge_peers(&discovered, &[operator]);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[&"169.254.255.1".parse::<IpAddr>().unwrap()].asn,
            64999
        );
    }
}
