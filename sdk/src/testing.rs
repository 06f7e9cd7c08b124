//! Native test helpers (not built for wasm32): a canned-response HTTP client and a loader for
//! `kubectl get node -o yaml` documents, so provider logic runs under plain `cargo test`;
//! [`Replay`], answering from a `herald provider run --record` file; and [`NetworkBuilder`], the
//! node's network facts.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{HttpClient, HttpError, HttpResponse, NodeContext};

mod network;
mod replay;

pub use network::NetworkBuilder;
pub use replay::{Replay, ReplayError};

/// One request a [`MockHttp`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// A GET as a provider sent it through [`HttpClient::get`].
    pub(crate) fn get(url: &str, headers: &[(&str, &str)]) -> Self {
        Self {
            method: "GET".into(),
            url: url.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An [`HttpClient`] answering from canned responses keyed by exact URL, recording every
/// request. A URL without a canned answer gets a transport error naming it.
#[derive(Debug, Default)]
pub struct MockHttp {
    responses: BTreeMap<String, Result<HttpResponse, HttpError>>,
    requests: RefCell<Vec<RecordedRequest>>,
}

impl MockHttp {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `url` with `status` and `body` (content type `application/json`).
    #[must_use]
    pub fn with_json(self, url: &str, status: u16, body: impl Into<Vec<u8>>) -> Self {
        let mut response = HttpResponse::new(status, body);
        response
            .headers
            .push(("content-type".into(), "application/json".into()));
        self.with_response(url, response)
    }

    #[must_use]
    pub fn with_response(mut self, url: &str, response: HttpResponse) -> Self {
        self.responses.insert(url.to_owned(), Ok(response));
        self
    }

    /// Fails requests to `url` with `error` (e.g. [`HttpError::Denied`]).
    #[must_use]
    pub fn with_error(mut self, url: &str, error: HttpError) -> Self {
        self.responses.insert(url.to_owned(), Err(error));
        self
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.borrow().clone()
    }

    /// The URLs requested so far, in order.
    pub fn urls(&self) -> Vec<String> {
        self.requests
            .borrow()
            .iter()
            .map(|r| r.url.clone())
            .collect()
    }
}

impl HttpClient for MockHttp {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<HttpResponse, HttpError> {
        self.requests
            .borrow_mut()
            .push(RecordedRequest::get(url, headers));
        self.responses.get(url).cloned().unwrap_or_else(|| {
            Err(HttpError::Transport(format!(
                "MockHttp: no canned response for {url}"
            )))
        })
    }
}

/// Why a Node YAML document could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum NodeYamlError {
    #[error("not a Node YAML document: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("expected kind Node, found {0:?}")]
    WrongKind(String),
}

/// Loads a `kubectl get node <name> -o yaml` document (comments allowed) into a [`NodeContext`]:
/// name, `spec.providerID`, annotations and labels. The network is empty: add one with
/// [`NetworkBuilder::build`] (`node.network = …`).
pub fn node_from_yaml(yaml: &str) -> Result<NodeContext, NodeYamlError> {
    #[derive(Deserialize)]
    struct Node {
        #[serde(default)]
        kind: Option<String>,
        metadata: Metadata,
        #[serde(default)]
        spec: Spec,
    }
    #[derive(Deserialize)]
    struct Metadata {
        name: String,
        #[serde(default)]
        annotations: Option<BTreeMap<String, String>>,
        #[serde(default)]
        labels: Option<BTreeMap<String, String>>,
    }
    #[derive(Deserialize, Default)]
    struct Spec {
        #[serde(default, rename = "providerID")]
        provider_id: Option<String>,
    }

    let node: Node = serde_yaml::from_str(yaml)?;
    if let Some(kind) = node.kind.filter(|k| k != "Node") {
        return Err(NodeYamlError::WrongKind(kind));
    }
    Ok(NodeContext {
        node_name: node.metadata.name,
        provider_id: node.spec.provider_id,
        annotations: node.metadata.annotations.unwrap_or_default(),
        labels: node.metadata.labels.unwrap_or_default(),
        network: crate::NodeNetwork::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE: &str = r#"
# comment
apiVersion: v1
kind: Node
metadata:
  name: k8s-cp-1
  labels:
    node-role.kubernetes.io/control-plane: ""
  annotations:
    metal.equinix.com/bgp-peers-0-node-asn: "65000"
spec:
  providerID: equinixmetal://a83d79c2-0d9a-4bd9-a0ad-d8cdcc900739
"#;

    #[test]
    fn loads_node_yaml() {
        let node = node_from_yaml(NODE).unwrap();
        assert_eq!(node.node_name, "k8s-cp-1");
        assert_eq!(
            node.provider_id.as_deref(),
            Some("equinixmetal://a83d79c2-0d9a-4bd9-a0ad-d8cdcc900739")
        );
        assert_eq!(
            node.annotation("metal.equinix.com/bgp-peers-0-node-asn"),
            Some("65000")
        );
        assert_eq!(
            node.label("node-role.kubernetes.io/control-plane"),
            Some("")
        );
    }

    #[test]
    fn node_without_annotations_or_spec() {
        let node = node_from_yaml("kind: Node\nmetadata:\n  name: bare\n").unwrap();
        assert!(node.annotations.is_empty() && node.provider_id.is_none());
    }

    #[test]
    fn rejects_other_kinds() {
        assert!(matches!(
            node_from_yaml("kind: Pod\nmetadata:\n  name: p\n"),
            Err(NodeYamlError::WrongKind(_))
        ));
    }

    #[test]
    fn mock_records_requests_and_answers_by_url() {
        let http = MockHttp::new().with_json("http://a/x", 200, "{}");
        let response = http.get("http://a/x", &[("X-Auth-Token", "t")]).unwrap();
        assert_eq!(response.status, 200);
        assert!(http.get("http://a/other", &[]).is_err());
        let requests = http.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(
            (
                requests[0].method.as_str(),
                requests[0].header("x-auth-token")
            ),
            ("GET", Some("t"))
        );
        assert_eq!(
            http.urls(),
            vec!["http://a/x".to_owned(), "http://a/other".to_owned()]
        );
    }
}
