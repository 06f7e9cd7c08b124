//! The reconciler: diffs the applied state against the desired state and applies the plan.
//!
//! Level-triggered: it remembers only what it has applied successfully, so a failed step is simply
//! part of the next plan. Feeding it the same desired state again is cheap (an empty plan).

use std::collections::BTreeSet;
use std::fmt::Display;
use std::time::Duration;

use herald_bgp::RouteAttributes;
use ipnet::IpNet;
use tracing::{debug, info, warn};

use crate::actuator::{ActuatorError, BgpActuator, NetActuator};
use crate::desired::DesiredState;
use crate::plan::Plan;

/// Items beyond this count are logged as a summary at info level, each one at debug level.
const ITEMS_LOGGED_ONE_BY_ONE: usize = 16;

/// The RFC 8203 shutdown communication sent on exit.
pub const SHUTDOWN_COMMUNICATION: &str = "herald shutting down";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileOutcome {
    /// Steps that failed and will be retried by the next reconcile.
    pub failures: usize,
}

impl ReconcileOutcome {
    pub fn converged(&self) -> bool {
        self.failures == 0
    }
}

pub struct Reconciler<B, N> {
    bgp: B,
    net: N,
    applied: DesiredState,
}

impl<B: BgpActuator, N: NetActuator> Reconciler<B, N> {
    pub fn new(bgp: B, net: N) -> Self {
        Self {
            bgp,
            net,
            applied: DesiredState::default(),
        }
    }

    pub fn bgp(&self) -> &B {
        &self.bgp
    }

    pub fn net(&self) -> &N {
        &self.net
    }

    /// What has been applied successfully so far.
    pub fn applied(&self) -> &DesiredState {
        &self.applied
    }

    pub async fn reconcile(&mut self, desired: &DesiredState) -> ReconcileOutcome {
        let plan = Plan::between(&self.applied, desired);
        let mut outcome = ReconcileOutcome::default();
        if plan.is_empty() {
            return outcome;
        }

        for (peer, gateway) in &plan.routes_to_ensure {
            match self.net.ensure_peer_route(*peer, *gateway).await {
                Ok(()) => {
                    info!(%peer, %gateway, "route to peer in place");
                    self.applied.peer_routes.insert(*peer, *gateway);
                }
                Err(error) => outcome.fail(&error),
            }
        }

        for address in &plan.peers_to_remove {
            match self.bgp.remove_peer(*address).await {
                Ok(()) => {
                    info!(peer = %address, "peer removed");
                    self.applied.peers.remove(address);
                }
                Err(error) => outcome.fail(&error),
            }
        }
        if !plan.addresses_to_add.is_empty() {
            let failures = self.net.add_addresses(&plan.addresses_to_add).await;
            let failed: BTreeSet<IpNet> = failures.iter().map(|(address, _)| *address).collect();
            let added: Vec<_> = plan
                .addresses_to_add
                .iter()
                .filter(|a| !failed.contains(a))
                .copied()
                .collect();
            log_items("VIP added to the interface", &added);
            self.applied.addresses.extend(added);
            for (_, error) in &failures {
                outcome.fail(error);
            }
        }

        // A VIP whose address is not on the interface yet is not announced (it would black-hole);
        // its failed address step already counts, and the next reconcile announces it.
        let not_ready: BTreeSet<IpNet> = desired
            .addresses
            .difference(&self.applied.addresses)
            .map(IpNet::trunc)
            .collect();
        let to_announce: Vec<(IpNet, RouteAttributes)> = plan
            .prefixes_to_announce
            .iter()
            .filter(|(prefix, _)| !not_ready.contains(prefix))
            .cloned()
            .collect();
        if !to_announce.is_empty() {
            match self.bgp.announce(&to_announce).await {
                Ok(()) => {
                    let prefixes: Vec<IpNet> =
                        to_announce.iter().map(|(prefix, _)| *prefix).collect();
                    log_items("prefix announced", &prefixes);
                    self.applied.prefixes.extend(to_announce);
                }
                Err(error) => outcome.fail(&error),
            }
        }
        for peer in &plan.peers_to_add {
            match self.bgp.add_peer(peer).await {
                Ok(()) => {
                    info!(peer = %peer.address, port = peer.port, asn = peer.asn,
                          multihop_ttl = ?peer.multihop_ttl, md5 = peer.password.is_some(), "peer added");
                    self.applied.peers.insert(peer.address, peer.clone());
                }
                Err(error) => outcome.fail(&error),
            }
        }

        if !plan.prefixes_to_withdraw.is_empty() {
            match self.bgp.withdraw(&plan.prefixes_to_withdraw).await {
                Ok(()) => {
                    log_items("prefix withdrawn", &plan.prefixes_to_withdraw);
                    for prefix in &plan.prefixes_to_withdraw {
                        self.applied.prefixes.remove(prefix);
                    }
                }
                Err(error) => outcome.fail(&error),
            }
        }

        if !plan.addresses_to_remove.is_empty() {
            let failures = self.net.remove_addresses(&plan.addresses_to_remove).await;
            let failed: BTreeSet<IpNet> = failures.iter().map(|(address, _)| *address).collect();
            let removed: Vec<_> = plan
                .addresses_to_remove
                .iter()
                .filter(|a| !failed.contains(a))
                .copied()
                .collect();
            log_items("VIP removed from the interface", &removed);
            for address in &removed {
                self.applied.addresses.remove(address);
            }
            for (_, error) in &failures {
                outcome.fail(error);
            }
        }

        for peer in &plan.routes_to_remove {
            match self.net.remove_peer_route(*peer).await {
                Ok(()) => {
                    info!(%peer, "route to peer released (removed if Herald added it)");
                    self.applied.peer_routes.remove(peer);
                }
                Err(error) => outcome.fail(&error),
            }
        }
        outcome
    }

    /// Withdraws everything and closes the sessions (within `deadline`), then removes the VIPs and
    /// the routes this agent added. Returns how many cleanup steps failed.
    pub async fn shutdown(&mut self, deadline: Duration) -> usize {
        info!(
            communication = SHUTDOWN_COMMUNICATION,
            "withdrawing all prefixes and closing sessions"
        );
        self.bgp.shutdown(SHUTDOWN_COMMUNICATION, deadline).await;
        self.applied.prefixes.clear();
        self.applied.peers.clear();

        let mut failures = 0;
        let addresses: Vec<_> = self.applied.addresses.iter().copied().collect();
        if !addresses.is_empty() {
            let failed = self.net.remove_addresses(&addresses).await;
            for (_, error) in &failed {
                warn!(error = %error, "could not remove a VIP");
            }
            failures += failed.len();
            log_items("VIP removed from the interface", &addresses);
        }
        self.applied.addresses.clear();
        // Routes go last: the withdrawals above had to reach the peers through them.
        for peer in std::mem::take(&mut self.applied.peer_routes).into_keys() {
            match self.net.remove_peer_route(peer).await {
                Ok(()) => info!(%peer, "route to peer released (removed if Herald added it)"),
                Err(error) => {
                    warn!(error = %error, "could not remove a route to a peer");
                    failures += 1;
                }
            }
        }
        if let Err(error) = self.net.cleanup().await {
            warn!(error = %error, "netlink cleanup failed");
            failures += 1;
        }
        failures
    }
}

impl ReconcileOutcome {
    fn fail(&mut self, error: &ActuatorError) {
        warn!(error = %error, "reconcile step failed; will retry");
        self.failures += 1;
    }
}

fn log_items<T: Display>(what: &str, items: &[T]) {
    if items.is_empty() {
        return;
    }
    if items.len() <= ITEMS_LOGGED_ONE_BY_ONE {
        for item in items {
            info!(item = %item, "{what}");
        }
    } else {
        info!(count = items.len(), "{what} (one line each at debug level)");
        for item in items {
            debug!(item = %item, "{what}");
        }
    }
}
