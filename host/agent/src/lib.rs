//! Desired state and reconciler joining providers, BGP and netlink.
