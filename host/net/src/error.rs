//! Errors of the netlink actuator; each names the interface, address or route it was about.

use std::net::IpAddr;

/// What can go wrong while changing addresses and routes.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The netlink socket could not be opened (needs CAP_NET_ADMIN for changes).
    #[error("cannot open a netlink socket: {0}")]
    Connection(#[source] std::io::Error),
    /// The configured VIP interface does not exist.
    #[error("interface {interface:?} not found")]
    InterfaceNotFound { interface: String },
    /// The kernel refused a request.
    #[error("netlink: {operation} failed: {source}")]
    Netlink {
        operation: String,
        #[source]
        source: rtnetlink::Error,
    },
    /// A route to an IPv4 peer via an IPv6 gateway (or the reverse) was asked for.
    #[error("route to peer {peer} via {via}: peer and gateway are of different address families")]
    FamilyMismatch { peer: IpAddr, via: IpAddr },
}

impl NetError {
    pub(crate) fn netlink(operation: impl Into<String>, source: rtnetlink::Error) -> Self {
        Self::Netlink {
            operation: operation.into(),
            source,
        }
    }
}

/// The kernel's errno inside a netlink error, if it is one.
pub(crate) fn errno(error: &rtnetlink::Error) -> Option<i32> {
    match error {
        rtnetlink::Error::NetlinkError(message) => message.code.map(|c| -c.get()),
        _ => None,
    }
}
