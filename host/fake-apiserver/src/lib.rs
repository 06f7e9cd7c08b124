//! A wire-faithful kube-apiserver stand-in for tests.
//!
//! [`FakeApiServer`] serves the real HTTP API (JSON over HTTP/1.1, no TLS) from memory, so kube-rs
//! clients, `kube::runtime::watcher` and `kubectl` work against it unchanged, while the test
//! drives the cluster's state through a direct side channel ([`FakeApiServer::upsert`],
//! [`FakeApiServer::merge_patch`], [`FakeApiServer::outage`], [`FakeApiServer::compact`] …).
//!
//! ```no_run
//! let server = herald_fake_apiserver::FakeApiServer::start();
//! server.upsert_yaml("apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n");
//! let kubeconfig = server.kubeconfig_yaml(); // for kube::Config::from_custom_kubeconfig
//! # drop(kubeconfig);
//! ```
//!
//! # Served kinds
//! core/v1 Namespace, Node, Service, Pod, ConfigMap, Secret, Event; discovery.k8s.io/v1
//! EndpointSlice; coordination.k8s.io/v1 Lease; events.k8s.io/v1 Event (a table in `resources.rs`).
//!
//! # Faithful to the apiserver
//! - Paths (namespaced, cluster-scoped, all-namespaces lists, `/status`, the legacy `/watch/`
//!   prefix), legacy discovery (`/api`, `/apis`, resource lists with verbs and short names),
//!   `/version`; `/openapi/*` answers 404 so kubectl carries on without a schema.
//! - One global resourceVersion; uid, creationTimestamp, `generateName`; `Status` failures with
//!   the apiserver's reasons and messages (NotFound, AlreadyExists, Conflict, Invalid, BadRequest,
//!   MethodNotAllowed, UnsupportedMediaType, Expired).
//! - Lists with label selectors (`=`, `==`, `!=`, exists, `!key`, `in`, `notin`, `>`, `<`), field
//!   selectors (`metadata.name`, `metadata.namespace` and each kind's own supported labels; other
//!   fields are rejected with `field label not supported`, as the apiserver does), `limit` and
//!   `continue`; items are written without `apiVersion`/`kind`, as the apiserver writes them.
//! - Watches: from a resourceVersion (history replay), or synthetic ADDED events for "", "0" or
//!   `sendInitialEvents=true` (then an `initial-events-end` bookmark); 410 Expired as an ERROR
//!   event when the resourceVersion is older than the retained history; BOOKMARK events;
//!   `timeoutSeconds`. With selectors, an object that starts matching arrives as ADDED and one that
//!   stops matching as DELETED (the watch cache's behaviour).
//! - Status subresource: writes to the main resource keep `.status`; `/status` changes only
//!   `.status`. HTTP creates reset `.status` of Services, Pods and Namespaces.
//! - Optimistic concurrency on PUT and PATCH (a body resourceVersion that is not the stored one is
//!   409 Conflict); writes that change nothing keep the resourceVersion and emit no event;
//!   finalizers delay deletion (deletionTimestamp set, deleted when the last finalizer goes);
//!   delete preconditions; `dryRun=All`; deleting a Namespace deletes its contents.
//! - Service defaulting: clusterIP(s), IP family fields, traffic policies, protocol, targetPort,
//!   nodePorts for NodePort and LoadBalancer (kept across updates).
//! - Outages close connections without a response and cut open watches mid-stream.
//!
//! # Not faithful
//! - No authentication or authorisation (any token is accepted), no admission (namespaces need
//!   not exist), no schema validation beyond names, no protobuf/CBOR, no HTTP/2, no TLS.
//! - Strategic merge patch has no schema: maps merge like a JSON merge patch, and a list is
//!   **replaced** unless the patch carries `$setElementOrder/<field>` (kubectl apply's patches
//!   do), which names the merge key; then it merges by key like the apiserver. A hand-written
//!   strategic patch of `ports`, `containers`, `ownerReferences` … therefore replaces the list
//!   where the apiserver would merge it. `$patch`, `$deleteFromPrimitiveList` are honoured.
//! - Server-side apply is a JSON merge of the applied configuration: no managedFields, no field
//!   ownership, no apply conflicts (`force` is accepted and ignored; `fieldManager` is required).
//! - Lists always serve the latest state whatever `resourceVersion`/`resourceVersionMatch` say;
//!   a continued list serves current objects after the token's key, under the first page's
//!   resourceVersion. A watch from a future resourceVersion waits for it instead of failing.
//! - core/v1 and events.k8s.io/v1 Events are stored separately (the apiserver converts between
//!   them). No `metadata.generation`, no managedFields, no garbage collection of owned objects,
//!   no graceful pod deletion, Namespaces are removed at once (no Terminating phase).
//! - Tables for kubectl's human output use the default columns (Name, Created At) for every kind.
//! - The side channel ([`FakeApiServer::upsert`]) writes exactly what it is given (status
//!   included, uid and creationTimestamp kept when set) and always bumps the resourceVersion;
//!   [`FakeApiServer::merge_patch`] and [`FakeApiServer::delete`] behave like the HTTP verbs
//!   (no-op patches and finalizers included). `namespace: None` (or no `metadata.namespace`)
//!   means `default` for namespaced kinds.
//! - `kubectl create/apply` need `--validate=false` (no OpenAPI is served).

mod defaults;
mod discovery;
mod history;
mod http;
mod list;
mod meta;
mod patch;
mod query;
mod resources;
mod routes;
mod selectors;
mod shared;
mod side_channel;
mod status;
mod store;
mod strategic;
mod table;
mod verbs;
mod watch;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;

use status::ApiError;

use crate::shared::Shared;
use crate::store::{Origin, Preconditions};

/// Errors of the fallible constructors and side-channel calls (`try_*`).
#[derive(Debug, thiserror::Error)]
pub enum FakeApiServerError {
    #[error("fake apiserver I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("the object has no apiVersion or kind")]
    MissingTypeMeta,
    #[error("kind {kind:?} in {api_version:?} is not served by the fake apiserver")]
    UnknownKind { api_version: String, kind: String },
    #[error("invalid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// What the apiserver would have answered with a `Status` failure.
    #[error("rejected ({code} {reason}): {message}")]
    Rejected {
        code: u16,
        reason: String,
        message: String,
    },
    #[error("the server thread failed to start: {0}")]
    Thread(String),
}

impl From<ApiError> for FakeApiServerError {
    fn from(e: ApiError) -> Self {
        Self::Rejected {
            code: e.code(),
            reason: e.reason().to_string(),
            message: e.to_string(),
        }
    }
}

/// One HTTP request the server answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// The raw (still percent-encoded) query string, "" when there is none.
    pub query: String,
    pub at: SystemTime,
}

/// A watch event's type as on the wire (`ADDED` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WatchEventType {
    Added,
    Modified,
    Deleted,
    Bookmark,
    Error,
}

impl WatchEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
            Self::Bookmark => "BOOKMARK",
            Self::Error => "ERROR",
        }
    }
}

/// When a watch event was first written to any client (for latency benchmarks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchLogEntry {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// As sent: a MODIFIED that moves an object out of a watch's selector is logged as DELETED.
    pub event_type: WatchEventType,
    pub resource_version: String,
    /// First written to a client.
    pub at: SystemTime,
    /// Stored (the write that caused the event); `at - stored_at` is the watch latency.
    pub stored_at: SystemTime,
}

/// Options for [`FakeApiServer::builder`].
#[derive(Debug, Clone)]
pub struct FakeApiServerBuilder {
    bookmark_interval: Duration,
    history_limit: usize,
    log_limit: usize,
    http_side_channel: bool,
}

impl Default for FakeApiServerBuilder {
    fn default() -> Self {
        Self {
            bookmark_interval: Duration::from_secs(1),
            history_limit: 100_000,
            log_limit: 200_000,
            http_side_channel: false,
        }
    }
}

impl FakeApiServerBuilder {
    /// How often watches with `allowWatchBookmarks=true` get a BOOKMARK (default 1 s).
    pub fn bookmark_interval(mut self, interval: Duration) -> Self {
        self.bookmark_interval = interval;
        self
    }

    /// Watch events retained for resuming watches (default 100,000); older starts get 410.
    pub fn history_limit(mut self, events: usize) -> Self {
        self.history_limit = events;
        self
    }

    /// Entries kept in each of the request log and the watch log (default 200,000; oldest dropped).
    pub fn log_limit(mut self, entries: usize) -> Self {
        self.log_limit = entries;
        self
    }

    /// Serve the HTTP side channel under `/_fake/` (the binary does; off by default).
    pub fn http_side_channel(mut self, enabled: bool) -> Self {
        self.http_side_channel = enabled;
        self
    }

    pub fn try_start(self) -> Result<FakeApiServer, FakeApiServerError> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        self.try_start_on(listener)
    }

    pub fn try_start_on(
        self,
        listener: std::net::TcpListener,
    ) -> Result<FakeApiServer, FakeApiServerError> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let shared = Arc::new(Shared::new(
            addr,
            self.history_limit,
            self.log_limit,
            self.bookmark_interval,
            self.http_side_channel,
        ));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), std::io::Error>>();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fake-apiserver-{}", addr.port()))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    tracing::debug!(%addr, "fake apiserver serving");
                    http::serve(listener, thread_shared, stop_rx).await;
                });
                // Dropping the runtime here cancels every connection and watch task.
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => return Err(FakeApiServerError::Thread("exited before serving".into())),
        }
        Ok(FakeApiServer {
            inner: Arc::new(Handle {
                shared,
                stop_tx,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Like [`FakeApiServer::start`] with these options.
    pub fn start(self) -> FakeApiServer {
        match self.try_start() {
            Ok(s) => s,
            // Test support: a loopback bind failing leaves nothing sensible to do but stop the test.
            Err(e) => panic!("fake apiserver failed to start: {e}"),
        }
    }

    /// Like [`FakeApiServer::start_on`] with these options.
    pub fn start_on(self, listener: std::net::TcpListener) -> FakeApiServer {
        match self.try_start_on(listener) {
            Ok(s) => s,
            Err(e) => panic!("fake apiserver failed to start: {e}"),
        }
    }
}

struct Handle {
    shared: Arc<Shared>,
    stop_tx: tokio::sync::watch::Sender<bool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Handle {
    fn stop(&self) {
        self.stop_tx.send_replace(true);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(thread) = thread
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An in-memory kube-apiserver on a loopback port (or a listener you bound). Cheap to clone; the
/// server stops with [`FakeApiServer::stop`] or when the last clone is dropped.
#[derive(Clone)]
pub struct FakeApiServer {
    inner: Arc<Handle>,
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApiServer")
            .field("addr", &self.addr())
            .finish()
    }
}

/// `v1` + `Node` → the table entry; None for kinds not served.
fn kind_of(api_version: &str, kind: &str) -> Option<resources::KindId> {
    resources::by_kind(api_version, kind)
}

impl FakeApiServer {
    /// Options: bookmark interval, history bound, log bounds, HTTP side channel.
    pub fn builder() -> FakeApiServerBuilder {
        FakeApiServerBuilder::default()
    }

    /// Binds 127.0.0.1:0 and serves on a dedicated OS thread with its own tokio runtime (works
    /// from sync and async tests alike).
    pub fn start() -> FakeApiServer {
        Self::builder().start()
    }

    /// Serves on a listener the caller already bound (e.g. inside a network namespace: the socket
    /// keeps its namespace).
    pub fn start_on(listener: std::net::TcpListener) -> FakeApiServer {
        Self::builder().start_on(listener)
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.shared.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// A kubeconfig for this server (plain HTTP, a token user, namespace `default`) that kube-rs
    /// and kubectl accept.
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: fake-apiserver
  cluster:
    server: {url}
contexts:
- name: fake-apiserver
  context:
    cluster: fake-apiserver
    user: fake-apiserver
    namespace: default
current-context: fake-apiserver
preferences: {{}}
users:
- name: fake-apiserver
  user:
    token: fake-apiserver-token
",
            url = self.url()
        )
    }

    pub fn write_kubeconfig(&self, path: &std::path::Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml())
    }

    /// Sets the BOOKMARK interval for watches started from now on and for the next bookmark of
    /// open ones.
    pub fn set_bookmark_interval(&self, interval: Duration) {
        self.inner.shared.set_bookmark_interval(interval);
    }

    /// Create or replace an object as the CCM/kubelet/kubectl would (status included); bumps
    /// resourceVersion, emits ADDED/MODIFIED. Returns the stored object.
    ///
    /// # Panics
    /// On an object that is not a served kind or has no name (a bug in the test); see
    /// [`FakeApiServer::try_upsert`].
    pub fn upsert(&self, object: Value) -> Value {
        match self.try_upsert(object) {
            Ok(v) => v,
            Err(e) => panic!("FakeApiServer::upsert: {e}"),
        }
    }

    pub fn try_upsert(&self, object: Value) -> Result<Value, FakeApiServerError> {
        let api_version = object.get("apiVersion").and_then(Value::as_str);
        let kind_name = object.get("kind").and_then(Value::as_str);
        let (Some(api_version), Some(kind_name)) = (api_version, kind_name) else {
            return Err(FakeApiServerError::MissingTypeMeta);
        };
        let kind =
            kind_of(api_version, kind_name).ok_or_else(|| FakeApiServerError::UnknownKind {
                api_version: api_version.to_string(),
                kind: kind_name.to_string(),
            })?;
        let stored = self.inner.shared.with_store(|s| s.upsert(kind, object))?;
        Ok((*stored).clone())
    }

    /// [`FakeApiServer::upsert`] of one YAML document.
    ///
    /// # Panics
    /// On invalid YAML or an object [`FakeApiServer::upsert`] rejects.
    pub fn upsert_yaml(&self, yaml: &str) -> Value {
        match self.try_upsert_yaml(yaml) {
            Ok(v) => v,
            Err(e) => panic!("FakeApiServer::upsert_yaml: {e}"),
        }
    }

    pub fn try_upsert_yaml(&self, yaml: &str) -> Result<Value, FakeApiServerError> {
        let object: Value = serde_yaml::from_str(yaml)?;
        self.try_upsert(object)
    }

    /// RFC 7386 merge patch of an existing object (e.g. annotate a node), status included; None
    /// when it does not exist. A patch that changes nothing keeps the resourceVersion.
    pub fn merge_patch(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        patch: Value,
    ) -> Option<Value> {
        let kind = kind_of(api_version, kind)?;
        self.inner.shared.with_store(|s| {
            let mut doc = (**s.get(kind, namespace, name)?).clone();
            patch::merge(&mut doc, &patch);
            let origin = Origin::Api { dry_run: false };
            match s.update(kind, namespace, name, doc, store::Scope::All, origin) {
                Ok(v) => Some((*v).clone()),
                Err(e) => {
                    tracing::debug!(error = %e, "merge_patch rejected");
                    None
                }
            }
        })
    }

    /// Deletes as `kubectl delete` would (finalizers delay it); false when it did not exist.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let Some(kind) = kind_of(api_version, kind) else {
            return false;
        };
        self.inner.shared.with_store(|s| {
            s.delete(
                kind,
                namespace,
                name,
                &Preconditions::default(),
                Origin::Test,
            )
            .is_ok()
        })
    }

    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let kind = kind_of(api_version, kind)?;
        self.inner
            .shared
            .with_store(|s| s.get(kind, namespace, name).map(|v| (**v).clone()))
    }

    /// Every object of a kind, all namespaces, in (namespace, name) order.
    pub fn list(&self, api_version: &str, kind: &str) -> Vec<Value> {
        let Some(kind) = kind_of(api_version, kind) else {
            return Vec::new();
        };
        self.inner.shared.with_store(|s| {
            s.iter(kind, None, None)
                .map(|(_, v)| (**v).clone())
                .collect()
        })
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.inner.shared.with_store(|s| s.resource_version())
    }

    /// From now for `duration`: every open watch stream ends and every new connection is closed
    /// at once without a response (as a down apiserver). Returns immediately.
    pub fn outage(&self, duration: Duration) {
        tracing::debug!(?duration, "outage");
        self.inner.shared.outage(duration);
    }

    /// `false`: down until set back to `true` (open watches end now).
    pub fn set_available(&self, available: bool) {
        self.inner.shared.set_available(available);
    }

    pub fn is_available(&self) -> bool {
        self.inner.shared.available()
    }

    /// Forget the watch history: a watch from any older resourceVersion then gets the 410
    /// Expired ERROR event.
    pub fn compact(&self) {
        self.inner.shared.with_store(store::Store::compact);
    }

    /// Every request served so far (method, path, raw query), oldest first; requests refused
    /// during an outage are not in it.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.inner.shared.requests()
    }

    /// Times at which watch events were first written to a client (replayed and live events;
    /// the synthetic ADDED events of a watch's start are not logged).
    pub fn watch_log(&self) -> Vec<WatchLogEntry> {
        self.inner.shared.with_store(|s| s.watch_log())
    }

    /// Watch streams open now (a client that hangs up is released at once).
    pub fn open_watches(&self) -> usize {
        self.inner.shared.open_watches()
    }

    /// Stops serving (also on drop of the last handle); the port is closed when this returns.
    pub fn stop(&self) {
        self.inner.stop();
    }
}
