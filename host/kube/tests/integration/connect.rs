//! connect(): an explicit kubeconfig path.

use k8s_openapi::api::core::v1::Node;
use kube::Api;

#[tokio::test]
async fn kubeconfig_path_connects() {
    let fake = herald_fake_apiserver::FakeApiServer::start();
    fake.upsert_yaml("apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admin.conf");
    fake.write_kubeconfig(&path).unwrap();
    let client = herald_kube::connect(Some(&path)).await.unwrap();
    let node = Api::<Node>::all(client).get("n1").await.unwrap();
    assert_eq!(node.metadata.name.as_deref(), Some("n1"));
}

#[tokio::test]
async fn missing_path_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.conf");
    let Err(err) = herald_kube::connect(Some(&path)).await else {
        panic!("connected with a missing kubeconfig");
    };
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("kubeconfig"), "{text}");
}
