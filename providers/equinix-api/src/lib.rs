//! Herald provider: Equinix Metal peers from api.
