//! `NetManager`: VIPs on the VIP interface and host routes to BGP peers, removing only what Herald added.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use futures::{StreamExt, stream};
use rtnetlink::Handle;
use tokio::task::JoinHandle;

use crate::error::NetError;
use crate::kernel::{self, KernelAddress, KernelRoute};
use crate::{HERALD_ADDRESS_PROTOCOL, HERALD_ROUTE_PROTOCOL};

/// Netlink requests a batch call keeps in flight at once (well below the socket's receive buffer).
pub const IN_FLIGHT: usize = 64;

/// Applies VIPs and peer routes through netlink, in the network namespace of the thread that built it.
///
/// Ownership rules (see the crate docs): Herald's addresses carry `IFA_PROTO` =
/// [`HERALD_ADDRESS_PROTOCOL`] and its routes `rtm_protocol` = [`HERALD_ROUTE_PROTOCOL`]; everything
/// else is the operator's and is never changed or removed.
#[derive(Debug)]
pub struct NetManager {
    handle: Handle,
    connection: JoinHandle<()>,
    interface: String,
    index: u32,
    vips: BTreeSet<IpAddr>,
    peer_routes: BTreeMap<IpAddr, IpAddr>,
}

impl NetManager {
    /// Opens a netlink connection (spawned on the current tokio runtime) and resolves `interface`
    /// (the interface VIPs go on, usually `lo`).
    pub async fn new(interface: &str) -> Result<Self, NetError> {
        let (connection, handle, _) = rtnetlink::new_connection().map_err(NetError::Connection)?;
        let connection = tokio::spawn(connection);
        let index = match kernel::link_index(&handle, interface).await {
            Ok(index) => index,
            Err(e) => {
                connection.abort();
                return Err(e);
            }
        };
        Ok(Self {
            handle,
            connection,
            interface: interface.to_string(),
            index,
            vips: BTreeSet::new(),
            peer_routes: BTreeMap::new(),
        })
    }

    /// The VIP interface name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Puts `addr` as /32 (IPv4) or /128 (IPv6) on the interface. Idempotent. An identical address
    /// the operator put there before (without Herald's tag) is left as it is and stays the
    /// operator's: Herald will not remove it. One of Herald's left by a crashed run is adopted.
    pub async fn ensure_vip(&mut self, addr: IpAddr) -> Result<(), NetError> {
        let prefix_len = host_prefix_len(addr);
        let existing = self.find_vip(addr).await?;
        match existing {
            Some(found) if found.protocol != HERALD_ADDRESS_PROTOCOL => {
                tracing::info!(%addr, interface = %self.interface,
                    "VIP already configured by someone else; using it and leaving it in place on exit");
            }
            Some(_) => {
                self.vips.insert(addr);
            }
            None => {
                kernel::add_address(
                    &self.handle,
                    self.index,
                    addr,
                    prefix_len,
                    HERALD_ADDRESS_PROTOCOL,
                )
                .await?;
                tracing::debug!(%addr, interface = %self.interface, "VIP added");
                self.vips.insert(addr);
            }
        }
        Ok(())
    }

    /// Removes `addr` from the interface if Herald added it (or a previous Herald run did);
    /// an operator's address is left alone. Removing an absent VIP is not an error.
    pub async fn remove_vip(&mut self, addr: IpAddr) -> Result<(), NetError> {
        self.vips.remove(&addr);
        if let Some(found) = self.find_vip(addr).await?
            && found.protocol == HERALD_ADDRESS_PROTOCOL
        {
            kernel::delete_address(&self.handle, &found).await?;
            tracing::debug!(%addr, interface = %self.interface, "VIP removed");
        }
        Ok(())
    }

    /// [`NetManager::ensure_vip`] for many addresses: one address dump, then up to
    /// [`IN_FLIGHT`] requests in flight. Returns the addresses that failed, with why; `Err` only
    /// when the interface's addresses cannot be listed.
    pub async fn ensure_vips(
        &mut self,
        addrs: &[IpAddr],
    ) -> Result<Vec<(IpAddr, NetError)>, NetError> {
        let current = self.host_addresses().await?;
        let mut missing = Vec::new();
        for &addr in addrs {
            match current.get(&addr) {
                Some(found) if found.protocol != HERALD_ADDRESS_PROTOCOL => {
                    tracing::info!(%addr, interface = %self.interface,
                        "VIP already configured by someone else; using it and leaving it in place on exit");
                }
                Some(_) => {
                    self.vips.insert(addr);
                }
                None => missing.push(addr),
            }
        }
        missing.sort_unstable();
        missing.dedup();
        let (handle, index) = (&self.handle, self.index);
        let results: Vec<(IpAddr, Result<(), NetError>)> = stream::iter(missing)
            .map(|addr| async move {
                let result = kernel::add_address(
                    handle,
                    index,
                    addr,
                    host_prefix_len(addr),
                    HERALD_ADDRESS_PROTOCOL,
                )
                .await;
                (addr, result)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let mut failures = Vec::new();
        for (addr, result) in results {
            match result {
                Ok(()) => {
                    self.vips.insert(addr);
                }
                Err(e) => failures.push((addr, e)),
            }
        }
        Ok(failures)
    }

    /// [`NetManager::remove_vip`] for many addresses: one dump, pipelined deletes. Returns the
    /// addresses that failed; `Err` only when the addresses cannot be listed.
    pub async fn remove_vips(
        &mut self,
        addrs: &[IpAddr],
    ) -> Result<Vec<(IpAddr, NetError)>, NetError> {
        let current = self.host_addresses().await?;
        let mut ours = Vec::new();
        for addr in addrs {
            self.vips.remove(addr);
            if let Some(found) = current.get(addr)
                && found.protocol == HERALD_ADDRESS_PROTOCOL
            {
                ours.push(found.clone());
            }
        }
        let (handle, index) = (&self.handle, self.index);
        stream::iter(ours.iter().filter_map(|found| match found.address {
            IpAddr::V6(v6) => Some(v6),
            IpAddr::V4(_) => None,
        }))
        .for_each_concurrent(IN_FLIGHT, |address| async move {
            // Best effort: a local route that cannot be deleted first only costs speed; the
            // address delete below removes it anyway.
            let _ = kernel::delete_ipv6_local_route(handle, index, address).await;
        })
        .await;
        let failures: Vec<(IpAddr, NetError)> = stream::iter(ours)
            .map(|found| async move {
                let result = kernel::delete_address(handle, &found).await;
                (found.address, result)
            })
            .buffer_unordered(IN_FLIGHT)
            .filter_map(|(addr, result)| async move { result.err().map(|e| (addr, e)) })
            .collect()
            .await;
        Ok(failures)
    }

    /// Routes `peer` (/32 or /128) via `via` in the main table, tagged with
    /// [`HERALD_ROUTE_PROTOCOL`]; replaces Herald's own earlier route to `peer`. If the operator
    /// already has a route for exactly that prefix, it is left untouched (and never removed).
    pub async fn ensure_peer_route(&mut self, peer: IpAddr, via: IpAddr) -> Result<(), NetError> {
        if peer.is_ipv4() != via.is_ipv4() {
            return Err(NetError::FamilyMismatch { peer, via });
        }
        let existing = self.find_host_routes(peer).await?;
        if existing.iter().any(|r| r.protocol != HERALD_ROUTE_PROTOCOL) {
            tracing::info!(%peer, "route to peer already configured by someone else; leaving it");
            self.peer_routes.remove(&peer);
            return Ok(());
        }
        kernel::replace_host_route(&self.handle, peer, via, HERALD_ROUTE_PROTOCOL).await?;
        tracing::debug!(%peer, %via, "peer route installed");
        self.peer_routes.insert(peer, via);
        Ok(())
    }

    /// Removes Herald's route to `peer` (any gateway); other routes to it stay. Absent is fine.
    pub async fn remove_peer_route(&mut self, peer: IpAddr) -> Result<(), NetError> {
        self.peer_routes.remove(&peer);
        for route in self.find_host_routes(peer).await? {
            if route.protocol == HERALD_ROUTE_PROTOCOL {
                kernel::delete_route(&self.handle, &route).await?;
                tracing::debug!(%peer, "peer route removed");
            }
        }
        Ok(())
    }

    /// Removes every address tagged [`HERALD_ADDRESS_PROTOCOL`] (on any interface) and every
    /// main-table route tagged [`HERALD_ROUTE_PROTOCOL`], including those a crashed run left behind.
    /// Keeps going after a failure and returns the first error.
    pub async fn cleanup(&mut self) -> Result<(), NetError> {
        let mut first_error = None;
        for address in kernel::addresses(&self.handle, None).await? {
            if address.protocol == HERALD_ADDRESS_PROTOCOL
                && let Err(e) = kernel::delete_address(&self.handle, &address).await
            {
                first_error.get_or_insert(e);
            }
        }
        for route in kernel::main_routes(&self.handle).await? {
            if route.protocol == HERALD_ROUTE_PROTOCOL
                && let Err(e) = kernel::delete_route(&self.handle, &route).await
            {
                first_error.get_or_insert(e);
            }
        }
        self.vips.clear();
        self.peer_routes.clear();
        first_error.map_or(Ok(()), Err)
    }

    /// VIPs Herald currently owns on the interface.
    pub fn vips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.vips.iter().copied()
    }

    /// Peer routes Herald currently owns: `(peer, gateway)`.
    pub fn peer_routes(&self) -> impl Iterator<Item = (IpAddr, IpAddr)> + '_ {
        self.peer_routes.iter().map(|(p, v)| (*p, *v))
    }

    async fn find_vip(&self, addr: IpAddr) -> Result<Option<KernelAddress>, NetError> {
        let prefix_len = host_prefix_len(addr);
        Ok(kernel::addresses(&self.handle, Some(self.index))
            .await?
            .into_iter()
            .find(|a| a.address == addr && a.prefix_len == prefix_len))
    }

    /// Host addresses (/32, /128) on the VIP interface by address.
    async fn host_addresses(&self) -> Result<BTreeMap<IpAddr, KernelAddress>, NetError> {
        Ok(kernel::addresses(&self.handle, Some(self.index))
            .await?
            .into_iter()
            .filter(|a| a.prefix_len == host_prefix_len(a.address))
            .map(|a| (a.address, a))
            .collect())
    }

    async fn find_host_routes(&self, peer: IpAddr) -> Result<Vec<KernelRoute>, NetError> {
        let prefix_len = host_prefix_len(peer);
        Ok(kernel::main_routes(&self.handle)
            .await?
            .into_iter()
            .filter(|r| r.destination == Some(peer) && r.prefix_len == prefix_len)
            .collect())
    }
}

impl Drop for NetManager {
    fn drop(&mut self) {
        // Dropping does not clean up: on SIGTERM the agent calls `cleanup()` explicitly, and a VIP
        // must not vanish just because a value went out of scope.
        self.connection.abort();
    }
}

fn host_prefix_len(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}
