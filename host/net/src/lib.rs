//! Netlink actuator: VIP addresses and routes to BGP peers.
