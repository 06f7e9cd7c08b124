//! Herald provider: Equinix Metal peers from annotations.
