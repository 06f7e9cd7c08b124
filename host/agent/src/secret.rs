//! The secret type (TCP MD5 password) is shared with the SDK, the runtime and the BGP speaker.

pub use herald_peer_rules::Secret;
