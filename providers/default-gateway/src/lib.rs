//! Herald provider `default-gateway`: the node's default gateway is its BGP peer, for each
//! configured family (what Cilium calls `autoDiscovery: DefaultGateway`). It reads only the
//! network facts the host passes in `node-context.network`; no HTTP, no annotations.
//!
//! Per family the lowest-metric default route wins, with one peer per distinct next hop of an
//! ECMP route; the session is sourced from the node's address on the route's interface. Peers
//! are directly connected (no multihop, no route-via). IPv6 link-local gateways are skipped with
//! a warning: a peer address has no interface scope. See README.md.

mod select;
mod settings;

use herald_sdk::{
    AddressFamily, BgpPeer, Config, Discovery, HttpClient, NodeContext, Provider, ProviderError,
    log,
};

pub use select::{Chosen, FamilyChoice, gateways_of};
pub use settings::{
    DEFAULT_FAMILIES, FAMILIES_KEY, LOCAL_ASN_KEY, PASSWORD_KEY, PEER_ASN_KEY, Settings,
};

/// Gateways change (DHCP, failover, a new route metric); the host re-reads the network before
/// each call, so asking again soon is cheap and picks the change up.
pub const REFRESH_AFTER_SECONDS: u32 = 30;

/// The provider. `None` until configured: `peer-asn` and `local-asn` have no defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefaultGatewayProvider {
    settings: Option<Settings>,
}

impl DefaultGatewayProvider {
    pub fn settings(&self) -> Option<&Settings> {
        self.settings.as_ref()
    }
}

impl Provider for DefaultGatewayProvider {
    fn configure(&mut self, config: &Config) -> Result<(), ProviderError> {
        self.settings = Some(Settings::from_config(config)?);
        Ok(())
    }

    fn discover(
        &self,
        node: &NodeContext,
        _http: &dyn HttpClient,
    ) -> Result<Discovery, ProviderError> {
        // The SDK configures with an empty config when the host skipped `configure`: that
        // already failed on the required ASNs, so this is only reached unconfigured natively.
        let settings = self.settings.as_ref().ok_or_else(|| {
            ProviderError::InvalidInput(format!("config key `{PEER_ASN_KEY}` is required"))
        })?;
        let mut peers = Vec::new();
        let mut missing = Vec::new();
        for &family in &settings.families {
            let choice = gateways_of(&node.network, family);
            for skipped in &choice.link_local {
                log::warn(&format!(
                    "skipping {family} default gateway {} via {}: link-local, and a BGP peer \
                     address carries no interface scope",
                    skipped.gateway,
                    skipped
                        .interface
                        .as_deref()
                        .unwrap_or("an unnamed interface"),
                ));
            }
            if choice.chosen.is_empty() {
                missing.push((family, choice));
                continue;
            }
            for chosen in choice.chosen {
                if chosen.source.is_none() {
                    log::warn(&format!(
                        "{family} default gateway {}: no usable address of the node faces it; \
                         the session is sourced by the kernel's choice",
                        chosen.gateway
                    ));
                }
                let mut peer = BgpPeer::new(chosen.gateway, settings.peer_asn, settings.local_asn);
                peer.source_address = chosen.source;
                peer.password.clone_from(&settings.password);
                peers.push(peer);
            }
        }
        if peers.is_empty() {
            return Err(ProviderError::NotReady(not_ready_message(&missing)));
        }
        for (family, choice) in &missing {
            log::warn(&format!(
                "{}; using the other families' gateways",
                family_reason(*family, choice)
            ));
        }
        Ok(Discovery {
            peers,
            refresh_after_seconds: Some(REFRESH_AFTER_SECONDS),
        })
    }
}

/// "no default route for ipv4 in this node's network namespace", naming every family looked at.
fn not_ready_message(missing: &[(AddressFamily, FamilyChoice)]) -> String {
    if missing.iter().all(|(_, choice)| choice.no_route()) {
        let families: Vec<&str> = missing.iter().map(|(f, _)| f.as_str()).collect();
        return format!(
            "no default route for {} in this node's network namespace",
            families.join(" or ")
        );
    }
    let reasons: Vec<String> = missing
        .iter()
        .map(|(family, choice)| family_reason(*family, choice))
        .collect();
    format!(
        "no usable default gateway in this node's network namespace: {}",
        reasons.join("; ")
    )
}

fn family_reason(family: AddressFamily, choice: &FamilyChoice) -> String {
    if choice.no_route() {
        return format!("no default route for {family}");
    }
    let gateways: Vec<String> = choice
        .link_local
        .iter()
        .map(|g| match &g.interface {
            Some(interface) => format!("{} via {interface}", g.gateway),
            None => g.gateway.to_string(),
        })
        .collect();
    format!(
        "the {family} default route only has link-local gateways ({}), which cannot be BGP peers",
        gateways.join(", ")
    )
}

herald_sdk::export_provider!(DefaultGatewayProvider);

herald_sdk::provider_metadata! {
    name: "default-gateway",
    description: "The node's default gateway of each configured family as its BGP peer \
                  (lowest-metric default route, every ECMP next hop), sourced from the node's \
                  address on the route's interface. Reads the network the host passes; no HTTP.",
    hosts: [],
    config: [
        { key: "peer-asn", description: "AS number of the gateways (the peers).", required: true },
        { key: "local-asn", description: "AS number of this node.", required: true },
        { key: "password", description: "TCP MD5 password for every session (1-80 bytes).",
          secret: true },
        { key: "families", description: "Address families to peer in: ipv4, ipv6 or ipv4,ipv6. \
                                          IPv6 link-local gateways are skipped.",
          default: "ipv4" },
    ],
}
