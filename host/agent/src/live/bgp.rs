//! The real BGP actuator: herald-bgp's [`Speaker`].

use std::net::IpAddr;
use std::time::Duration;

use herald_bgp::{
    GracefulRestartConfig, Password, PeerConfig, RouteAttributes, SessionState, Speaker,
    SpeakerConfig,
};
use ipnet::IpNet;

use crate::actuator::{ActuatorError, BgpActuator, PeerState};
use crate::config::{PeerSpec, SpeakerSettings};

pub struct LiveBgp {
    speaker: Speaker,
}

impl LiveBgp {
    /// Starts the speaker on the current tokio runtime; peers are added by the reconciler.
    pub fn start(settings: &SpeakerSettings) -> Self {
        let speaker = Speaker::start(SpeakerConfig {
            router_id: settings.router_id,
            local_asn: settings.local_asn,
            graceful_restart: settings
                .graceful_restart_time
                .map(|restart_time| GracefulRestartConfig { restart_time }),
        });
        Self { speaker }
    }

    pub fn speaker(&self) -> &Speaker {
        &self.speaker
    }
}

pub(crate) fn peer_config(peer: &PeerSpec) -> PeerConfig {
    let mut config = PeerConfig::new(peer.address, peer.asn);
    config.port = peer.port;
    config.local_asn = peer.local_asn;
    config.source_address = peer.source_address;
    config.password = peer
        .password
        .as_ref()
        .map(|secret| Password::new(secret.expose().to_owned()));
    config.multihop_ttl = peer.multihop_ttl;
    config.hold_time = peer.hold_time;
    config.keepalive = peer.keepalive;
    config
}

impl BgpActuator for LiveBgp {
    async fn add_peer(&self, peer: &PeerSpec) -> Result<(), ActuatorError> {
        self.speaker
            .add_peer(peer_config(peer))
            .map_err(|error| ActuatorError::new(format!("adding BGP peer {}", peer.address), error))
    }

    async fn remove_peer(&self, address: IpAddr) -> Result<(), ActuatorError> {
        self.speaker
            .remove_peer(address)
            .await
            .map_err(|error| ActuatorError::new(format!("removing BGP peer {address}"), error))
    }

    async fn announce(&self, prefixes: &[(IpNet, RouteAttributes)]) -> Result<(), ActuatorError> {
        self.speaker.announce_many(prefixes.iter().cloned());
        Ok(())
    }

    async fn withdraw(&self, prefixes: &[IpNet]) -> Result<(), ActuatorError> {
        self.speaker.withdraw_many(prefixes.iter().copied());
        Ok(())
    }

    fn peer_states(&self) -> Vec<PeerState> {
        self.speaker
            .peer_status()
            .into_iter()
            .map(|status| PeerState {
                address: status.address,
                established: status.state == SessionState::Established,
                state: status.state.to_string(),
                last_error: status.last_error,
                uptime: status.uptime,
                prefixes_advertised: status.counters.prefixes_advertised,
            })
            .collect()
    }

    async fn shutdown(&self, communication: &str, deadline: Duration) {
        self.speaker.shutdown(communication, deadline).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn peer_spec_maps_every_field() {
        let spec = PeerSpec {
            address: "169.254.255.1".parse().unwrap(),
            port: 1179,
            asn: 65530,
            local_asn: None,
            password: Some(Secret::new("pw")),
            multihop_ttl: Some(2),
            source_address: Some("192.0.2.2".parse().unwrap()),
            route_via: Some("192.0.2.1".parse().unwrap()),
            hold_time: 9,
            keepalive: 3,
        };
        let config = peer_config(&spec);
        assert_eq!(
            (config.port, config.peer_asn, config.multihop_ttl),
            (1179, 65530, Some(2))
        );
        assert_eq!((config.hold_time, config.keepalive), (9, 3));
        assert_eq!(config.source_address, spec.source_address);
        assert_eq!(config.password, Some(Password::new("pw".to_owned())));
    }
}
