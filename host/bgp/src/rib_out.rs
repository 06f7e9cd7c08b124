//! The table Herald announces (shared by all peers) and each session's view of what it
//! has sent (Adj-RIB-Out), diffed to produce minimal UPDATEs.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use ipnet::IpNet;
use tokio::sync::watch;

use crate::config::RouteAttributes;
use crate::message::normalize;

/// Prefix → attributes.
pub type Table = BTreeMap<IpNet, RouteAttributes>;

/// The desired table. Sessions watch `version` and diff on change, so a burst of
/// announcements coalesces into one round of packed UPDATEs.
#[derive(Debug)]
pub struct Rib {
    table: RwLock<Arc<Table>>,
    version: watch::Sender<u64>,
}

impl Default for Rib {
    fn default() -> Self {
        Self {
            table: RwLock::new(Arc::new(Table::new())),
            version: watch::Sender::new(0),
        }
    }
}

impl Rib {
    /// Applies `edit` to the table; bumps the version if anything changed.
    fn edit(&self, edit: impl FnOnce(&mut Table) -> bool) {
        let changed = {
            let mut guard = self
                .table
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            edit(Arc::make_mut(&mut guard))
        };
        if changed {
            self.version.send_modify(|v| *v += 1);
        }
    }

    /// Adds or replaces routes.
    pub fn announce_many(&self, routes: impl IntoIterator<Item = (IpNet, RouteAttributes)>) {
        self.edit(|table| {
            let mut changed = false;
            for (prefix, attrs) in routes {
                let prefix = normalize(prefix);
                if table.get(&prefix) != Some(&attrs) {
                    table.insert(prefix, attrs);
                    changed = true;
                }
            }
            changed
        });
    }

    /// Removes routes (one change for the whole batch).
    pub fn withdraw_many(&self, prefixes: impl IntoIterator<Item = IpNet>) {
        self.edit(|table| {
            let mut changed = false;
            for prefix in prefixes {
                changed |= table.remove(&normalize(prefix)).is_some();
            }
            changed
        });
    }

    /// Removes a route.
    pub fn withdraw(&self, prefix: IpNet) {
        self.withdraw_many([prefix]);
    }

    /// Removes every route.
    pub fn clear(&self) {
        self.edit(|table| {
            let had = !table.is_empty();
            table.clear();
            had
        });
    }

    /// The current table (cheap: shared until the next edit).
    pub fn snapshot(&self) -> Arc<Table> {
        self.table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A receiver that sees every change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }
}

/// What one session has advertised.
#[derive(Debug, Default)]
pub struct AdjRibOut {
    advertised: Table,
}

/// Changes to send.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// New or changed routes.
    pub announce: Vec<(IpNet, RouteAttributes)>,
    /// Routes to withdraw.
    pub withdraw: Vec<IpNet>,
}

impl Delta {
    /// Nothing to send.
    pub fn is_empty(&self) -> bool {
        self.announce.is_empty() && self.withdraw.is_empty()
    }
}

impl AdjRibOut {
    /// Routes to send so the peer holds exactly the part of `desired` that `carries` accepts;
    /// records them as advertised.
    pub fn sync(&mut self, desired: &Table, carries: impl Fn(&IpNet) -> bool) -> Delta {
        let mut delta = Delta::default();
        for (prefix, attrs) in desired {
            if carries(prefix) && self.advertised.get(prefix) != Some(attrs) {
                delta.announce.push((*prefix, attrs.clone()));
            }
        }
        for prefix in self.advertised.keys() {
            if !desired.get(prefix).is_some_and(|_| carries(prefix)) {
                delta.withdraw.push(*prefix);
            }
        }
        for prefix in &delta.withdraw {
            self.advertised.remove(prefix);
        }
        for (prefix, attrs) in &delta.announce {
            self.advertised.insert(*prefix, attrs.clone());
        }
        delta
    }

    /// Everything advertised, to re-send on ROUTE-REFRESH.
    pub fn advertised(&self) -> impl Iterator<Item = (&IpNet, &RouteAttributes)> {
        self.advertised.iter()
    }

    /// Number of advertised prefixes.
    pub fn len(&self) -> usize {
        self.advertised.len()
    }

    /// Nothing advertised.
    pub fn is_empty(&self) -> bool {
        self.advertised.is_empty()
    }

    /// Forgets everything and returns the prefixes that were advertised.
    pub fn take_all(&mut self) -> Vec<IpNet> {
        std::mem::take(&mut self.advertised).into_keys().collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn announce_is_idempotent_and_diffs() {
        let rib = Rib::default();
        let mut rx = rib.subscribe();
        let attrs = RouteAttributes::default();
        rib.announce_many([("192.0.2.7/32".parse().unwrap(), attrs.clone())]);
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        rib.announce_many([("192.0.2.7/32".parse().unwrap(), attrs.clone())]);
        assert!(
            !rx.has_changed().unwrap(),
            "same route again is not a change"
        );

        let mut out = AdjRibOut::default();
        let d = out.sync(&rib.snapshot(), |_| true);
        assert_eq!(d.announce.len(), 1);
        assert!(out.sync(&rib.snapshot(), |_| true).is_empty());
        rib.withdraw("192.0.2.7/32".parse().unwrap());
        let d = out.sync(&rib.snapshot(), |_| true);
        assert_eq!(d.withdraw, vec!["192.0.2.7/32".parse::<IpNet>().unwrap()]);
    }

    #[test]
    fn host_bits_are_cleared() {
        let rib = Rib::default();
        rib.announce_many([(
            "198.51.100.9/24".parse().unwrap(),
            RouteAttributes::default(),
        )]);
        assert!(
            rib.snapshot()
                .contains_key(&"198.51.100.0/24".parse().unwrap())
        );
    }
}
