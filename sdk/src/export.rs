//! Glue between the WIT exports and a [`Provider`]: type conversions, the per-instance
//! provider state and the [`export_provider!`](crate::export_provider) macro.

use std::net::IpAddr;

use crate::bindings::herald::provider::types as wit;
use crate::{BgpPeer, Config, Discovery, HttpClient, NodeContext, Provider, ProviderError};

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
    let result = provider.discover(&from_wit_node(node), http);
    CONFIGURED.with(|slot| *slot.borrow_mut() = Some(Box::new(provider)));
    result.map(to_wit_discovery).map_err(to_wit_error)
}

fn from_wit_node(node: wit::NodeContext) -> NodeContext {
    NodeContext {
        node_name: node.node_name,
        provider_id: node.provider_id,
        annotations: node.annotations.into_iter().collect(),
        labels: node.labels.into_iter().collect(),
    }
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
}
