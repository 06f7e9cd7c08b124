//! Pieces of `herald provider`: finding the file (or pulling it from a registry), reading the Node, parsing flags, printing.

pub mod builder;
pub mod config_args;
pub mod locate;
pub mod new;
pub mod node;
pub mod oci;
pub mod output;
