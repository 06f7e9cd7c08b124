//! Is a peer's source address on this node? BGP binds the session to it: an address the node
//! does not hold (a stale `src-ip` annotation, the private interface not configured yet) means
//! the connect fails and the session cannot come up.

use std::net::IpAddr;

use herald_net::inspect::NetSnapshot;
use serde::Serialize;

use crate::status::Status;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceCheck {
    /// `info` when the peer has no source address (the kernel picks one).
    pub status: Status,
    pub address: Option<String>,
    /// The interface holding the address.
    pub interface: Option<String>,
    /// One sentence for people (free text).
    pub summary: String,
}

pub fn source_check(source: Option<IpAddr>, net: &NetSnapshot) -> SourceCheck {
    let Some(address) = source else {
        return SourceCheck {
            status: Status::Info,
            address: None,
            interface: None,
            summary: "not set: the kernel picks one from the route".into(),
        };
    };
    match net.interface_with(address) {
        Some(interface) => SourceCheck {
            status: Status::Ok,
            address: Some(address.to_string()),
            interface: Some(interface.name.clone()),
            summary: format!("{address} is on {}", interface.name),
        },
        None => SourceCheck {
            status: Status::Fail,
            address: Some(address.to_string()),
            interface: None,
            summary: format!(
                "{address} is on no interface of this node: the session cannot come up"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use herald_net::inspect::InterfaceInfo;

    use super::*;

    fn net() -> NetSnapshot {
        NetSnapshot {
            routes: Vec::new(),
            interfaces: vec![InterfaceInfo {
                name: "bond0".into(),
                up: true,
                addresses: vec!["10.70.17.9/31".parse().unwrap()],
            }],
        }
    }

    #[test]
    fn the_source_is_found_on_its_interface_or_reported_missing() {
        let ok = source_check(Some("10.70.17.9".parse().unwrap()), &net());
        assert_eq!(
            (ok.status, ok.interface.as_deref()),
            (Status::Ok, Some("bond0"))
        );
        let missing = source_check(Some("10.70.17.11".parse().unwrap()), &net());
        assert_eq!(missing.status, Status::Fail);
        assert!(missing.summary.contains("cannot come up"));
        assert_eq!(source_check(None, &net()).status, Status::Info);
    }
}
