//! The `coordination.k8s.io/v1` Lease the console's replicas elect their plan driver with: read,
//! create, and update on the condition that it is still at the resourceVersion read (a stale one
//! is 409 Conflict, so two replicas can never both take it). The election itself (when to renew,
//! when a lease counts as abandoned) is `plans/leader.rs`'s.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::PostParams;
use kube::Api;

use super::{Cluster, Error};

/// What the election needs of a Lease.
#[derive(Clone, Debug, PartialEq)]
pub struct LeaseState {
    pub holder: Option<String>,
    pub duration_seconds: i32,
    pub transitions: i32,
    /// Changes at every write: the election watches it to tell a live holder from a dead one.
    pub resource_version: String,
    lease: Lease,
}

/// How a conditional write of the Lease went.
#[derive(Debug)]
pub enum LeaseWrite {
    /// Written: the caller holds it.
    Held(Box<LeaseState>),
    /// Someone else wrote it first (409): the caller does not hold it.
    Lost,
}

fn state(lease: Lease) -> LeaseState {
    let spec = lease.spec.clone().unwrap_or_default();
    LeaseState {
        holder: spec.holder_identity.filter(|h| !h.is_empty()),
        duration_seconds: spec.lease_duration_seconds.unwrap_or(0),
        transitions: spec.lease_transitions.unwrap_or(0),
        resource_version: lease.metadata.resource_version.clone().unwrap_or_default(),
        lease,
    }
}

fn now() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

impl Cluster {
    fn leases(&self, namespace: &str) -> Api<Lease> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// The Lease `namespace/name`, or `None` when there is none.
    pub async fn read_lease(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<LeaseState>, Error> {
        match self.leases(namespace).get_opt(name).await {
            Ok(lease) => Ok(lease.map(state)),
            Err(e) => Err(Error::from_call(e)),
        }
    }

    /// Creates the Lease held by `holder`; `Lost` when another replica created it first.
    pub async fn create_lease(
        &self,
        namespace: &str,
        name: &str,
        holder: &str,
        duration_seconds: i32,
    ) -> Result<LeaseWrite, Error> {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.to_owned()),
                lease_duration_seconds: Some(duration_seconds),
                acquire_time: Some(now()),
                renew_time: Some(now()),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        match self
            .leases(namespace)
            .create(&PostParams::default(), &lease)
            .await
        {
            Ok(lease) => Ok(LeaseWrite::Held(Box::new(state(lease)))),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(LeaseWrite::Lost),
            Err(e) => Err(Error::from_call(e)),
        }
    }

    /// Renews the Lease for `holder`, or takes it over (a new holder: a new acquire time and one
    /// more transition), on the condition that it is still as `read` (its resourceVersion).
    pub async fn update_lease(
        &self,
        namespace: &str,
        read: &LeaseState,
        holder: &str,
        duration_seconds: i32,
    ) -> Result<LeaseWrite, Error> {
        let mut lease = read.lease.clone();
        let mut spec = lease.spec.clone().unwrap_or_default();
        let takeover = spec.holder_identity.as_deref() != Some(holder);
        if takeover {
            spec.acquire_time = Some(now());
            spec.lease_transitions = Some(read.transitions + 1);
            spec.holder_identity = Some(holder.to_owned());
        }
        spec.renew_time = Some(now());
        spec.lease_duration_seconds = Some(duration_seconds);
        lease.spec = Some(spec);
        let name = lease.metadata.name.clone().unwrap_or_default();
        match self
            .leases(namespace)
            .replace(&name, &PostParams::default(), &lease)
            .await
        {
            Ok(lease) => Ok(LeaseWrite::Held(Box::new(state(lease)))),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(LeaseWrite::Lost),
            Err(e) => Err(Error::from_call(e)),
        }
    }
}
