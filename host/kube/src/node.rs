//! Reading one Node once, without a watch (`herald doctor --nodeName`): the same lean decoding
//! and the same [`NodeInfo`] the node watcher gives the agent.

use kube::Api;

use crate::wire::NodeWire;
use crate::{KubeError, NodeInfo};

/// `GET /api/v1/nodes/{name}`. A missing Node is an error for which
/// [`KubeError::is_not_found`] is true.
pub async fn get_node(client: &kube::Client, name: &str) -> Result<NodeInfo, KubeError> {
    Api::<NodeWire>::all(client.clone())
        .get(name)
        .await
        .map(NodeWire::into_info)
        .map_err(|error| KubeError::api(format!("reading Node {name}"), error))
}
