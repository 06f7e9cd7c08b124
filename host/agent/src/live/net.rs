//! The real netlink actuator: herald-net's [`NetManager`].

use std::net::IpAddr;

use herald_net::NetManager;
use ipnet::IpNet;
use tokio::sync::Mutex;

use crate::actuator::{ActuatorError, Failures, NetActuator};

/// VIP addresses, peer routes and cleanup through `NetManager`. It needs `&mut self`; the
/// reconciler is the only caller, so the lock is uncontended.
pub struct LiveNet {
    manager: Mutex<NetManager>,
}

impl LiveNet {
    /// Opens netlink in the current network namespace and resolves the VIP interface.
    pub async fn open(interface: &str) -> Result<Self, OpenError> {
        Ok(Self {
            manager: Mutex::new(NetManager::new(interface).await?),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Net(#[from] herald_net::NetError),
}

impl NetActuator for LiveNet {
    async fn add_addresses(&self, addresses: &[IpNet]) -> Failures<IpNet> {
        // The interface gets the host address (/32, /128); a VIP's prefix length only shapes
        // what is announced.
        let hosts: Vec<IpAddr> = addresses.iter().map(IpNet::addr).collect();
        let result = self.manager.lock().await.ensure_vips(&hosts).await;
        batch_failures(addresses, result, "adding VIP")
    }

    async fn remove_addresses(&self, addresses: &[IpNet]) -> Failures<IpNet> {
        let hosts: Vec<IpAddr> = addresses.iter().map(IpNet::addr).collect();
        let result = self.manager.lock().await.remove_vips(&hosts).await;
        batch_failures(addresses, result, "removing VIP")
    }

    async fn ensure_peer_route(&self, peer: IpAddr, gateway: IpAddr) -> Result<(), ActuatorError> {
        self.manager
            .lock()
            .await
            .ensure_peer_route(peer, gateway)
            .await
            .map_err(|error| {
                ActuatorError::new(
                    format!("installing route to peer {peer} via {gateway}"),
                    error,
                )
            })
    }

    async fn remove_peer_route(&self, peer: IpAddr) -> Result<(), ActuatorError> {
        self.manager
            .lock()
            .await
            .remove_peer_route(peer)
            .await
            .map_err(|error| ActuatorError::new(format!("removing route to peer {peer}"), error))
    }

    async fn cleanup(&self) -> Result<(), ActuatorError> {
        self.manager
            .lock()
            .await
            .cleanup()
            .await
            .map_err(|error| ActuatorError::new("removing Herald's addresses and routes", error))
    }
}

/// Maps herald-net's per-address failures back to the VIPs asked for; when the interface's
/// addresses could not even be listed, every VIP failed for that reason.
fn batch_failures(
    vips: &[IpNet],
    result: Result<Vec<(IpAddr, herald_net::NetError)>, herald_net::NetError>,
    action: &str,
) -> Failures<IpNet> {
    match result {
        Ok(failed) => failed
            .into_iter()
            .flat_map(|(address, error)| {
                let message = error.to_string();
                vips.iter()
                    .filter(move |vip| vip.addr() == address)
                    .map(move |vip| {
                        (
                            *vip,
                            ActuatorError::new(format!("{action} {address}"), message.clone()),
                        )
                    })
            })
            .collect(),
        Err(error) => {
            let message = error.to_string();
            vips.iter()
                .map(|vip| {
                    (
                        *vip,
                        ActuatorError::new(format!("{action} {}", vip.addr()), message.clone()),
                    )
                })
                .collect()
        }
    }
}
