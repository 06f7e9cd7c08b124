//! Glue between the WIT exports and a [`Provider`]: type conversions, the per-instance
//! provider state and the [`export_provider!`](crate::export_provider) macro.

use std::net::IpAddr;

use crate::bindings::herald::provider::types as wit;
use crate::{
    AddressFamily, BgpPeer, Config, DefaultGateway, Discovery, HttpClient, InterfaceAddress,
    NetworkInterface, NodeContext, NodeNetwork, Provider, ProviderError,
};

/// Exports `$provider` (a type implementing [`Provider`] and `Default`) as the component's
/// `herald:provider/peer-discovery`. `configure` builds the provider from `Default` and runs
/// [`Provider::configure`]; `discover` runs [`Provider::discover`] on that instance (a
/// `discover` without `configure` first configures with an empty configuration).
/// Expands to nothing outside wasm32, so native unit tests link without the WIT exports.
#[macro_export]
macro_rules! export_provider {
    ($provider:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct HeraldProviderExport;

            impl $crate::bindings::exports::herald::provider::peer_discovery::Guest for HeraldProviderExport {
                fn configure(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<(), $crate::bindings::herald::provider::types::ProviderError> {
                    $crate::export::configure::<$provider>(config)
                }

                fn discover(
                    node: $crate::bindings::herald::provider::types::NodeContext,
                ) -> ::core::result::Result<
                    $crate::bindings::herald::provider::types::Discovery,
                    $crate::bindings::herald::provider::types::ProviderError,
                > {
                    $crate::export::discover::<$provider>(node, &$crate::http::WasiHttp)
                }
            }

            $crate::bindings::__export_provider_world!(HeraldProviderExport with_types_in $crate::bindings);
        };
    };
}

thread_local! {
    /// The configured provider of this instance (a component instance is single-threaded and
    /// lives for one configure + discover sequence).
    static CONFIGURED: std::cell::RefCell<Option<Box<dyn std::any::Any>>> = const { std::cell::RefCell::new(None) };
}

#[doc(hidden)]
pub fn configure<P: Provider + Default + 'static>(
    config: Vec<(String, String)>,
) -> Result<(), wit::ProviderError> {
    let mut provider = P::default();
    provider
        .configure(&Config::from_pairs(config))
        .map_err(to_wit_error)?;
    CONFIGURED.with(|slot| *slot.borrow_mut() = Some(Box::new(provider)));
    Ok(())
}

#[doc(hidden)]
pub fn discover<P: Provider + Default + 'static>(
    node: wit::NodeContext,
    http: &dyn HttpClient,
) -> Result<wit::Discovery, wit::ProviderError> {
    let configured = CONFIGURED.with(|slot| slot.borrow_mut().take());
    let provider = match configured.and_then(|any| any.downcast::<P>().ok()) {
        Some(provider) => *provider,
        None => {
            let mut provider = P::default();
            provider
                .configure(&Config::default())
                .map_err(to_wit_error)?;
            provider
        }
    };
    // A malformed address from the host is the provider's input error, reported as such; the
    // instance stays configured for a later call.
    let result = from_wit_node(node).and_then(|node| provider.discover(&node, http));
    CONFIGURED.with(|slot| *slot.borrow_mut() = Some(Box::new(provider)));
    result.map(to_wit_discovery).map_err(to_wit_error)
}

fn from_wit_node(node: wit::NodeContext) -> Result<NodeContext, ProviderError> {
    Ok(NodeContext {
        network: from_wit_network(node.network)?,
        node_name: node.node_name,
        provider_id: node.provider_id,
        annotations: node.annotations.into_iter().collect(),
        labels: node.labels.into_iter().collect(),
    })
}

fn from_wit_network(network: wit::NodeNetwork) -> Result<NodeNetwork, ProviderError> {
    let interfaces = network
        .interfaces
        .into_iter()
        .enumerate()
        .map(|(i, interface)| from_wit_interface(i, interface))
        .collect::<Result<_, _>>()?;
    let default_gateways = network
        .default_gateways
        .into_iter()
        .enumerate()
        .map(|(i, gateway)| from_wit_gateway(i, gateway))
        .collect::<Result<_, _>>()?;
    Ok(NodeNetwork {
        interfaces,
        default_gateways,
    })
}

fn from_wit_interface(
    index: usize,
    interface: wit::NetworkInterface,
) -> Result<NetworkInterface, ProviderError> {
    let addresses = interface
        .addresses
        .into_iter()
        .enumerate()
        .map(|(j, address)| {
            let field = format!("node.network.interfaces[{index}].addresses[{j}].address");
            Ok(InterfaceAddress {
                address: parse_ip(&field, &address.address)?,
                prefix_length: address.prefix_length,
            })
        })
        .collect::<Result<_, ProviderError>>()?;
    Ok(NetworkInterface {
        name: interface.name,
        up: interface.up,
        addresses,
    })
}

fn from_wit_gateway(
    index: usize,
    gateway: wit::DefaultGateway,
) -> Result<DefaultGateway, ProviderError> {
    let field = format!("node.network.default-gateways[{index}].gateway");
    Ok(DefaultGateway {
        family: match gateway.family {
            wit::AddressFamily::Ipv4 => AddressFamily::Ipv4,
            wit::AddressFamily::Ipv6 => AddressFamily::Ipv6,
        },
        gateway: parse_ip(&field, &gateway.gateway)?,
        interface: gateway.interface,
        metric: gateway.metric,
    })
}

fn parse_ip(field: &str, text: &str) -> Result<IpAddr, ProviderError> {
    text.parse()
        .map_err(|_| ProviderError::InvalidInput(format!("{field}: {text:?} is not an IP address")))
}

fn to_wit_discovery(discovery: Discovery) -> wit::Discovery {
    wit::Discovery {
        peers: discovery.peers.into_iter().map(to_wit_peer).collect(),
        refresh_after_seconds: discovery.refresh_after_seconds,
    }
}

fn to_wit_peer(peer: BgpPeer) -> wit::BgpPeer {
    wit::BgpPeer {
        peer_address: peer.peer_address.to_string(),
        peer_asn: peer.peer_asn,
        local_asn: peer.local_asn,
        source_address: peer.source_address.as_ref().map(IpAddr::to_string),
        password: peer.password.map(|p| p.expose().to_owned()),
        multihop_ttl: peer.multihop_ttl,
        route_via: peer.route_via.as_ref().map(IpAddr::to_string),
        hold_time_seconds: peer.hold_time_seconds,
        port: peer.port,
        keepalive_seconds: peer.keepalive_seconds,
    }
}

fn to_wit_error(error: ProviderError) -> wit::ProviderError {
    match error {
        ProviderError::NotReady(m) => wit::ProviderError::NotReady(m),
        ProviderError::InvalidInput(m) => wit::ProviderError::InvalidInput(m),
        ProviderError::Unreachable(m) => wit::ProviderError::Unreachable(m),
        ProviderError::Unauthorized(m) => wit::ProviderError::Unauthorized(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Password;
    use crate::testing::MockHttp;

    #[derive(Default)]
    struct Echo {
        asn: u32,
    }

    impl Provider for Echo {
        fn configure(&mut self, config: &Config) -> Result<(), ProviderError> {
            self.asn = config.parse("asn")?.unwrap_or(64512);
            Ok(())
        }

        fn discover(
            &self,
            node: &NodeContext,
            _http: &dyn HttpClient,
        ) -> Result<Discovery, ProviderError> {
            if node.node_name.is_empty() {
                return Err(ProviderError::NotReady("no node".into()));
            }
            let mut peer = BgpPeer::new(
                "fc00:0000:0000:0000:0000:0000:0000:000e".parse().unwrap(),
                65530,
                self.asn,
            );
            peer.password = Some(Password::new("pw"));
            peer.route_via = Some("10.70.17.8".parse().unwrap());
            Ok(Discovery {
                peers: vec![peer],
                refresh_after_seconds: Some(60),
            })
        }
    }

    fn wit_node(name: &str) -> wit::NodeContext {
        wit::NodeContext {
            node_name: name.into(),
            provider_id: None,
            annotations: vec![("a".into(), "b".into())],
            labels: vec![],
            network: wit::NodeNetwork {
                interfaces: vec![],
                default_gateways: vec![],
            },
        }
    }

    #[test]
    fn configure_then_discover_uses_the_configured_instance() {
        configure::<Echo>(vec![("asn".into(), "65000".into())]).unwrap();
        let found = discover::<Echo>(wit_node("n"), &MockHttp::new()).unwrap();
        let peer = &found.peers[0];
        assert_eq!(peer.local_asn, 65000);
        assert_eq!(peer.peer_address, "fc00::e", "addresses are normalised");
        assert_eq!(peer.password.as_deref(), Some("pw"));
        assert_eq!(peer.route_via.as_deref(), Some("10.70.17.8"));
        assert_eq!(found.refresh_after_seconds, Some(60));
    }

    #[test]
    fn errors_keep_their_kind() {
        let err = configure::<Echo>(vec![("asn".into(), "x".into())]).unwrap_err();
        assert!(matches!(err, wit::ProviderError::InvalidInput(_)));
        let err = discover::<Echo>(wit_node(""), &MockHttp::new()).unwrap_err();
        assert!(matches!(err, wit::ProviderError::NotReady(_)));
    }

    /// Reports the node's first default gateway and interface address back as a peer.
    #[derive(Default)]
    struct Network;

    impl Provider for Network {
        fn configure(&mut self, _config: &Config) -> Result<(), ProviderError> {
            Ok(())
        }

        fn discover(
            &self,
            node: &NodeContext,
            _http: &dyn HttpClient,
        ) -> Result<Discovery, ProviderError> {
            let gateway = node
                .network
                .default_gateways(AddressFamily::Ipv6)
                .next()
                .ok_or_else(|| ProviderError::NotReady("no gateway".into()))?;
            let interface = node
                .network
                .interface(gateway.interface.as_deref().unwrap_or_default())
                .ok_or_else(|| ProviderError::NotReady("no interface".into()))?;
            let mut peer = BgpPeer::new(gateway.gateway, 65530, 65000);
            peer.source_address = interface.addresses.first().map(|a| a.address);
            peer.keepalive_seconds = Some(u16::from(interface.addresses[0].prefix_length));
            Ok(Discovery {
                peers: vec![peer],
                refresh_after_seconds: Some(gateway.metric),
            })
        }
    }

    fn wit_network_node(gateway: &str, address: &str) -> wit::NodeContext {
        wit::NodeContext {
            network: wit::NodeNetwork {
                interfaces: vec![wit::NetworkInterface {
                    name: "eth0".into(),
                    up: true,
                    addresses: vec![wit::InterfaceAddress {
                        address: address.into(),
                        prefix_length: 64,
                    }],
                }],
                default_gateways: vec![wit::DefaultGateway {
                    family: wit::AddressFamily::Ipv6,
                    gateway: gateway.into(),
                    interface: Some("eth0".into()),
                    metric: 100,
                }],
            },
            ..wit_node("n")
        }
    }

    #[test]
    fn network_facts_reach_the_provider() {
        configure::<Network>(vec![]).unwrap();
        let found = discover::<Network>(
            wit_network_node("2001:db8:1:0::1", "2001:db8:1::2"),
            &MockHttp::new(),
        )
        .unwrap();
        let peer = &found.peers[0];
        assert_eq!(peer.peer_address, "2001:db8:1::1");
        assert_eq!(peer.source_address.as_deref(), Some("2001:db8:1::2"));
        assert_eq!(peer.keepalive_seconds, Some(64));
        assert_eq!(found.refresh_after_seconds, Some(100));
    }

    #[test]
    fn a_malformed_host_address_is_invalid_input_naming_the_field() {
        let bad_gateway = discover::<Network>(
            wit_network_node("not-an-ip", "2001:db8:1::2"),
            &MockHttp::new(),
        )
        .unwrap_err();
        assert!(
            matches!(&bad_gateway, wit::ProviderError::InvalidInput(m)
                if m.contains("node.network.default-gateways[0].gateway") && m.contains("not-an-ip")),
            "{bad_gateway:?}"
        );
        let bad_address = discover::<Network>(
            wit_network_node("2001:db8:1::1", "2001:db8:1::2/64"),
            &MockHttp::new(),
        )
        .unwrap_err();
        assert!(
            matches!(&bad_address, wit::ProviderError::InvalidInput(m)
                if m.contains("node.network.interfaces[0].addresses[0].address")),
            "{bad_address:?}"
        );
    }
}
