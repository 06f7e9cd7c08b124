//! Logs BGP session transitions (up/down per peer) from periodic status snapshots.

use std::collections::BTreeMap;
use std::net::IpAddr;

use tracing::{info, warn};

use crate::actuator::PeerState;

/// A change worth one log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionChange {
    Up(IpAddr),
    Down {
        peer: IpAddr,
        state: String,
        last_error: Option<String>,
    },
}

#[derive(Debug, Default)]
pub struct SessionLog {
    established: BTreeMap<IpAddr, bool>,
}

impl SessionLog {
    /// Compares a snapshot with the previous one. A peer seen for the first time and not yet up is
    /// not a change (it is still connecting).
    pub fn observe(&mut self, states: &[PeerState]) -> Vec<SessionChange> {
        let mut changes = Vec::new();
        for state in states {
            let before = self.established.insert(state.address, state.established);
            match (before, state.established) {
                (Some(false) | None, true) => changes.push(SessionChange::Up(state.address)),
                (Some(true), false) => changes.push(SessionChange::Down {
                    peer: state.address,
                    state: state.state.clone(),
                    last_error: state.last_error.clone(),
                }),
                _ => {}
            }
        }
        self.established
            .retain(|address, _| states.iter().any(|state| state.address == *address));
        changes
    }

    pub fn log(&mut self, states: &[PeerState]) {
        for change in self.observe(states) {
            match change {
                SessionChange::Up(peer) => info!(%peer, "BGP session up"),
                SessionChange::Down {
                    peer,
                    state,
                    last_error,
                } => {
                    warn!(%peer, %state, last_error = last_error.as_deref().unwrap_or("none"), "BGP session down");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(address: &str, established: bool) -> PeerState {
        PeerState {
            address: address.parse().unwrap(),
            established,
            state: if established { "Established" } else { "Active" }.to_owned(),
            last_error: (!established).then(|| "connection refused".to_owned()),
            uptime: None,
            prefixes_advertised: 0,
        }
    }

    #[test]
    fn up_and_down_are_reported_once() {
        let mut log = SessionLog::default();
        assert!(log.observe(&[state("192.0.2.1", false)]).is_empty());
        assert_eq!(
            log.observe(&[state("192.0.2.1", true)]),
            vec![SessionChange::Up("192.0.2.1".parse().unwrap())]
        );
        assert!(log.observe(&[state("192.0.2.1", true)]).is_empty());
        let changes = log.observe(&[state("192.0.2.1", false)]);
        assert!(matches!(&changes[..], [SessionChange::Down { state, .. }] if state == "Active"));
    }
}
