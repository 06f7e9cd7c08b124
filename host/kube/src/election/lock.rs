//! The Lease as a lock: read it, create it, or replace it guarded by the resourceVersion last
//! seen (client-go's `LeaseLock`). Never a blind patch: two writers cannot both win.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;

use crate::KubeError;

/// client-go's `LeaderElectionRecord`: the fields of `Lease.spec` election uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Record {
    pub(super) holder: String,
    pub(super) lease_duration_seconds: i32,
    pub(super) acquire_time: Option<MicroTime>,
    pub(super) renew_time: Option<MicroTime>,
    pub(super) transitions: i32,
}

impl Record {
    pub(super) fn from_spec(spec: Option<&LeaseSpec>) -> Record {
        let spec = spec.cloned().unwrap_or_default();
        Record {
            holder: spec.holder_identity.unwrap_or_default(),
            lease_duration_seconds: spec.lease_duration_seconds.unwrap_or_default(),
            acquire_time: spec.acquire_time,
            renew_time: spec.renew_time,
            transitions: spec.lease_transitions.unwrap_or_default(),
        }
    }

    /// Writes this record into `spec`, keeping fields election does not own (strategy, …).
    fn apply_to(&self, spec: &mut LeaseSpec) {
        spec.holder_identity = Some(self.holder.clone());
        spec.lease_duration_seconds = Some(self.lease_duration_seconds);
        spec.acquire_time = self.acquire_time.clone();
        spec.renew_time = self.renew_time.clone();
        spec.lease_transitions = Some(self.transitions);
    }
}

pub(super) struct LeaseLock {
    api: Api<Lease>,
    name: String,
    /// The object as last read or written: its resourceVersion guards the next replace.
    last: Option<Lease>,
}

impl LeaseLock {
    pub(super) fn new(client: kube::Client, namespace: &str, name: &str) -> Self {
        LeaseLock {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            last: None,
        }
    }

    pub(super) fn describe(&self) -> String {
        format!(
            "Lease {}/{}",
            self.api.namespace().unwrap_or_default(),
            self.name
        )
    }

    /// The current record, or `None` if the Lease does not exist.
    pub(super) async fn get(&mut self) -> Result<Option<Record>, KubeError> {
        let lease = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| KubeError::api(format!("reading {}", self.describe()), e))?;
        let record = lease.as_ref().map(|l| Record::from_spec(l.spec.as_ref()));
        self.last = lease;
        Ok(record)
    }

    /// Creates the Lease; 409 AlreadyExists if someone else created it first.
    pub(super) async fn create(&mut self, record: &Record) -> Result<Record, KubeError> {
        let mut spec = LeaseSpec::default();
        record.apply_to(&mut spec);
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(spec),
        };
        let written = self
            .api
            .create(&PostParams::default(), &lease)
            .await
            .map_err(|e| KubeError::api(format!("creating {}", self.describe()), e))?;
        Ok(self.remember(written))
    }

    /// The Lease as last read or written, to replace from.
    pub(super) fn base(&self) -> Option<Lease> {
        self.last.clone()
    }

    /// Replaces `base` (as last seen) with `record`; 409 Conflict if it changed since.
    pub(super) async fn update(
        &mut self,
        mut base: Lease,
        record: &Record,
    ) -> Result<Record, KubeError> {
        record.apply_to(base.spec.get_or_insert_with(LeaseSpec::default));
        let written = self
            .api
            .replace(&self.name, &PostParams::default(), &base)
            .await
            .map_err(|e| KubeError::api(format!("updating {}", self.describe()), e))?;
        Ok(self.remember(written))
    }

    fn remember(&mut self, lease: Lease) -> Record {
        let record = Record::from_spec(lease.spec.as_ref());
        self.last = Some(lease);
        record
    }
}
