//! Herald provider: Equinix Metal peers from metadata.
