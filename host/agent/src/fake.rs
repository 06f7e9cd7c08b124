//! In-memory actuators for reconciler tests: they record calls and fail on demand.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_bgp::RouteAttributes;
use ipnet::IpNet;

use crate::actuator::{ActuatorError, BgpActuator, Failures, NetActuator, PeerState};
use crate::config::PeerSpec;

#[derive(Debug, Default)]
pub struct World {
    pub calls: Vec<String>,
    pub peers: BTreeSet<IpAddr>,
    pub announced: BTreeSet<IpNet>,
    pub addresses: BTreeSet<IpNet>,
    pub routes: BTreeSet<(IpAddr, IpAddr)>,
    /// Calls whose text starts with one of these fail (and are not applied).
    pub failing: Vec<String>,
}

impl World {
    fn call(&mut self, text: String) -> Result<(), ActuatorError> {
        let fails = self
            .failing
            .iter()
            .any(|prefix| text.starts_with(prefix.as_str()));
        self.calls.push(text.clone());
        if fails {
            Err(ActuatorError::new(text, "injected failure"))
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Fake(pub Arc<Mutex<World>>);

impl Fake {
    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.0.lock().unwrap()
    }
}

impl BgpActuator for Fake {
    async fn add_peer(&self, peer: &PeerSpec) -> Result<(), ActuatorError> {
        let mut world = self.world();
        world.call(format!("add_peer {}", peer.address))?;
        world.peers.insert(peer.address);
        Ok(())
    }

    async fn remove_peer(&self, address: IpAddr) -> Result<(), ActuatorError> {
        let mut world = self.world();
        world.call(format!("remove_peer {address}"))?;
        world.peers.remove(&address);
        Ok(())
    }

    async fn announce(&self, prefixes: &[(IpNet, RouteAttributes)]) -> Result<(), ActuatorError> {
        let mut world = self.world();
        world.call(format!("announce {}", prefixes.len()))?;
        world
            .announced
            .extend(prefixes.iter().map(|(prefix, _)| *prefix));
        Ok(())
    }

    async fn withdraw(&self, prefixes: &[IpNet]) -> Result<(), ActuatorError> {
        let mut world = self.world();
        world.call(format!("withdraw {}", prefixes.len()))?;
        for prefix in prefixes {
            world.announced.remove(prefix);
        }
        Ok(())
    }

    fn peer_states(&self) -> Vec<PeerState> {
        Vec::new()
    }

    async fn shutdown(&self, communication: &str, _deadline: Duration) {
        let mut world = self.world();
        world.calls.push(format!("shutdown {communication}"));
        world.announced.clear();
        world.peers.clear();
    }
}

impl NetActuator for Fake {
    async fn add_addresses(&self, addresses: &[IpNet]) -> Failures<IpNet> {
        let mut world = self.world();
        let mut failures = Vec::new();
        for address in addresses {
            match world.call(format!("add_address {address}")) {
                Ok(()) => {
                    world.addresses.insert(*address);
                }
                Err(error) => failures.push((*address, error)),
            }
        }
        failures
    }

    async fn remove_addresses(&self, addresses: &[IpNet]) -> Failures<IpNet> {
        let mut world = self.world();
        let mut failures = Vec::new();
        for address in addresses {
            match world.call(format!("remove_address {address}")) {
                Ok(()) => {
                    world.addresses.remove(address);
                }
                Err(error) => failures.push((*address, error)),
            }
        }
        failures
    }

    async fn ensure_peer_route(&self, peer: IpAddr, gateway: IpAddr) -> Result<(), ActuatorError> {
        let mut world = self.world();
        world.call(format!("ensure_route {peer} via {gateway}"))?;
        world.routes.retain(|(p, _)| *p != peer);
        world.routes.insert((peer, gateway));
        Ok(())
    }

    async fn remove_peer_route(&self, peer: IpAddr) -> Result<(), ActuatorError> {
        let mut world = self.world();
        world.call(format!("remove_route {peer}"))?;
        world.routes.retain(|(p, _)| *p != peer);
        Ok(())
    }

    async fn cleanup(&self) -> Result<(), ActuatorError> {
        self.world().call("cleanup".to_owned())
    }
}
