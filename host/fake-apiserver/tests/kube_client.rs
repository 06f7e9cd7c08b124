//! kube-rs's `Api` against the fake: reads, writes, errors, patches, the status subresource.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use herald_fake_apiserver::FakeApiServer;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Node, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn node(name: &str) -> Node {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
    }))
    .unwrap()
}

fn service(name: &str) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
    }))
    .unwrap()
}

fn api_error(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(status) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn node_get_list_create_conflicts() {
    let server = FakeApiServer::start();
    server.upsert(
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                         "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}),
    );
    server.upsert(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}}));
    let nodes: Api<Node> = Api::all(common::client(&server).await);

    let n1 = nodes.get("n1").await.unwrap();
    assert_eq!(n1.status.unwrap().addresses.unwrap()[0].address, "10.0.0.1");
    assert!(n1.metadata.uid.is_some() && n1.metadata.creation_timestamp.is_some());
    assert!(
        nodes.get_opt("missing").await.unwrap().is_none(),
        "404 must map to None"
    );
    let err = api_error(nodes.get("missing").await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str()), (404, "NotFound"));
    assert_eq!(err.message, "nodes \"missing\" not found");

    let listed = nodes
        .list(&ListParams::default().fields("metadata.name=n2"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].metadata.name.as_deref(), Some("n2"));
    let rv: u64 = listed.metadata.resource_version.unwrap().parse().unwrap();
    assert_eq!(rv, server.resource_version());
    let all = nodes.list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), 2);

    let created = nodes
        .create(&PostParams::default(), &node("n3"))
        .await
        .unwrap();
    assert_eq!(created.metadata.name.as_deref(), Some("n3"));
    let err = api_error(
        nodes
            .create(&PostParams::default(), &node("n3"))
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(err.message, "nodes \"n3\" already exists");

    // A replace carrying the current resourceVersion wins; the same body again is stale.
    let mut update = created.clone();
    update.metadata.labels = Some([("role".to_string(), "edge".to_string())].into());
    let replaced = nodes
        .replace("n3", &PostParams::default(), &update)
        .await
        .unwrap();
    assert_ne!(
        replaced.metadata.resource_version,
        created.metadata.resource_version
    );
    let err = api_error(
        nodes
            .replace("n3", &PostParams::default(), &update)
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    assert!(
        err.message.contains("the object has been modified"),
        "{}",
        err.message
    );

    let deleted = nodes.delete("n3", &DeleteParams::default()).await.unwrap();
    assert!(
        deleted.is_right(),
        "Node deletion answers with a success Status"
    );
    assert!(nodes.get_opt("n3").await.unwrap().is_none());
    assert!(server.get("v1", "Node", None, "n3").is_none());
}

#[tokio::test]
async fn pagination_and_label_selectors() {
    let server = FakeApiServer::start();
    for i in 0..25 {
        let tier = if i % 2 == 0 { "even" } else { "odd" };
        server.upsert(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{i:02}"), "namespace": "default", "labels": {"tier": tier, "i": i.to_string()}}}));
    }
    let cms: Api<ConfigMap> = Api::namespaced(common::client(&server).await, "default");
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut lp = ListParams::default().limit(10);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = cms.list(&lp).await.unwrap();
        pages += 1;
        names.extend(page.items.iter().map(|c| c.metadata.name.clone().unwrap()));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() || pages > 10 {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 25);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "key order");

    let count = |sel: &'static str| {
        let cms = cms.clone();
        async move {
            cms.list(&ListParams::default().labels(sel))
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(count("tier=even").await, 13);
    assert_eq!(count("tier!=even").await, 12);
    assert_eq!(count("tier in (even,odd),i in (1,2,3)").await, 3);
    assert_eq!(count("i notin (1,2,3),tier=odd").await, 10);
    assert_eq!(count("tier,!missing").await, 25);
    assert_eq!(count("missing").await, 0);

    // Unsupported field selectors fail like the apiserver's.
    let services: Api<Service> = Api::all(common::client(&server).await);
    let err = api_error(
        services
            .list(&ListParams::default().fields("spec.type=LoadBalancer"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (err.code, err.message.as_str()),
        (400, "field label not supported: spec.type")
    );
}

#[tokio::test]
async fn service_status_subresource() {
    let server = FakeApiServer::start();
    let services: Api<Service> = Api::namespaced(common::client(&server).await, "default");
    let created = services
        .create(&PostParams::default(), &service("web"))
        .await
        .unwrap();
    let spec = created.spec.clone().unwrap();
    assert!(spec.cluster_ip.is_some(), "clusterIP allocated");
    assert_eq!(spec.external_traffic_policy.as_deref(), Some("Cluster"));
    assert!(spec.ports.unwrap()[0].node_port.is_some());

    // Through /status only status changes, even when the patch carries spec.
    let patched = services
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({
                "spec": {"type": "ClusterIP"},
                "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}},
            })),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.spec.as_ref().unwrap().type_.as_deref(),
        Some("LoadBalancer")
    );
    let ingress = patched
        .status
        .as_ref()
        .unwrap()
        .load_balancer
        .as_ref()
        .unwrap()
        .ingress
        .clone()
        .unwrap();
    assert_eq!(ingress[0].ip.as_deref(), Some("192.0.2.10"));

    // The main resource ignores status.
    let relabelled = services
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}, "status": {"loadBalancer": {"ingress": null}}})),
        )
        .await
        .unwrap();
    assert_eq!(relabelled.metadata.labels.unwrap()["a"], "b");
    assert_eq!(relabelled.status, patched.status);
    let stored = server.get("v1", "Service", Some("default"), "web").unwrap();
    assert_eq!(
        stored["status"]["loadBalancer"]["ingress"][0]["ip"],
        "192.0.2.10"
    );

    // replace_status with a stale resourceVersion conflicts; with the current one it lands.
    let mut current = services.get_status("web").await.unwrap();
    current.status = Some(
        serde_json::from_value(json!({"loadBalancer": {"ingress": [{"ip": "192.0.2.11"}]}}))
            .unwrap(),
    );
    let replaced = services
        .replace_status("web", &PostParams::default(), &current)
        .await
        .unwrap();
    assert_eq!(
        replaced
            .status
            .unwrap()
            .load_balancer
            .unwrap()
            .ingress
            .unwrap()[0]
            .ip
            .as_deref(),
        Some("192.0.2.11")
    );
    let err = api_error(
        services
            .replace_status("web", &PostParams::default(), &current)
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code, 409);

    // A patch that changes nothing keeps the resourceVersion (no event).
    let before = server.resource_version();
    services
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(server.resource_version(), before);

    let gone = services
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    assert!(gone.is_left(), "Service deletion echoes the object");
}

#[tokio::test]
async fn strategic_json_and_apply_patches() {
    let server = FakeApiServer::start();
    let cms: Api<ConfigMap> = Api::namespaced(common::client(&server).await, "default");
    server.upsert(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default", "labels": {"keep": "1"}}, "data": {"a": "1"}}));

    let strategic = cms
        .patch(
            "c",
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"labels": {"new": "2"}}, "data": {"b": "2"}})),
        )
        .await
        .unwrap();
    assert_eq!(strategic.metadata.labels.as_ref().unwrap().len(), 2);
    assert_eq!(strategic.data.as_ref().unwrap().len(), 2);

    let ops = serde_json::from_value(json!([
        {"op": "test", "path": "/data/a", "value": "1"},
        {"op": "replace", "path": "/data/a", "value": "10"},
        {"op": "remove", "path": "/data/b"},
        {"op": "add", "path": "/metadata/annotations", "value": {"x": "y"}},
    ]))
    .unwrap();
    let jp = cms
        .patch("c", &PatchParams::default(), &Patch::Json::<()>(ops))
        .await
        .unwrap();
    assert_eq!(
        jp.data.unwrap(),
        [("a".to_string(), "10".to_string())].into()
    );
    assert_eq!(jp.metadata.annotations.unwrap()["x"], "y");

    let failing =
        serde_json::from_value(json!([{"op": "test", "path": "/data/a", "value": "nope"}]))
            .unwrap();
    let err = api_error(
        cms.patch("c", &PatchParams::default(), &Patch::Json::<()>(failing))
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code, 422);

    // Server-side apply creates when missing and merges when present.
    let apply = PatchParams::apply("herald-test").force();
    let applied = cms
        .patch(
            "fresh",
            &apply,
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "fresh"}, "data": {"k": "v"}})),
        )
        .await
        .unwrap();
    assert_eq!(applied.data.unwrap()["k"], "v");
    let reapplied = cms
        .patch(
            "fresh",
            &apply,
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "fresh", "labels": {"l": "1"}}, "data": {"k2": "v2"}})),
        )
        .await
        .unwrap();
    assert_eq!(reapplied.data.unwrap().len(), 2);
    assert_eq!(reapplied.metadata.uid, applied.metadata.uid);

    // A patch with a stale resourceVersion is a conflict; patching a missing object is 404.
    let err = api_error(
        cms.patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"resourceVersion": "1"}, "data": {"z": "z"}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    let err = api_error(
        cms.patch("nope", &PatchParams::default(), &Patch::Merge(json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code, 404);
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.method == "PATCH" && r.query.contains("fieldManager=herald-test"))
    );
}

#[tokio::test]
async fn lease_create_and_guarded_replace() {
    let server = FakeApiServer::start();
    let leases: Api<Lease> = Api::namespaced(common::client(&server).await, "kube-system");
    let err = api_error(leases.get("plndr-cp-lock").await.unwrap_err());
    assert_eq!(
        err.message,
        "leases.coordination.k8s.io \"plndr-cp-lock\" not found"
    );
    assert!(leases.get_opt("plndr-cp-lock").await.unwrap().is_none());

    let lease: Lease = serde_json::from_value(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "plndr-cp-lock", "namespace": "kube-system"},
        "spec": {"holderIdentity": "node-a", "leaseDurationSeconds": 15,
                 "renewTime": "2025-01-01T00:00:00.000000Z"},
    }))
    .unwrap();
    let created = leases.create(&PostParams::default(), &lease).await.unwrap();
    let mut renewed = created.clone();
    renewed.spec.as_mut().unwrap().holder_identity = Some("node-b".into());
    let replaced = leases
        .replace("plndr-cp-lock", &PostParams::default(), &renewed)
        .await
        .unwrap();
    assert_eq!(
        replaced.spec.unwrap().holder_identity.as_deref(),
        Some("node-b")
    );

    // Another candidate still holding the old resourceVersion loses.
    let err = api_error(
        leases
            .replace("plndr-cp-lock", &PostParams::default(), &renewed)
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        err.message,
        "Operation cannot be fulfilled on leases.coordination.k8s.io \"plndr-cp-lock\": the object has been modified; \
         please apply your changes to the latest version and try again"
    );
    let listed = server.list("coordination.k8s.io/v1", "Lease");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["spec"]["holderIdentity"], "node-b");
}

#[tokio::test]
async fn event_recorder_publishes_events_v1() {
    use k8s_openapi::api::core::v1::ObjectReference;
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};

    let server = FakeApiServer::start();
    let client = common::client(&server).await;
    let reporter = Reporter {
        controller: "herald".into(),
        instance: Some("node-a".into()),
    };
    let recorder = Recorder::new(client, reporter);
    let reference = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Service".into()),
        name: Some("web".into()),
        namespace: Some("default".into()),
        ..Default::default()
    };
    let event = Event {
        type_: EventType::Warning,
        reason: "AnnounceFailed".into(),
        note: Some("no BGP session".into()),
        action: "Announce".into(),
        secondary: None,
    };
    recorder.publish(&event, &reference).await.unwrap();
    // The same event again becomes a series: a merge patch of the first.
    recorder.publish(&event, &reference).await.unwrap();

    let events = server.list("events.k8s.io/v1", "Event");
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = &events[0];
    assert_eq!(e["reason"], "AnnounceFailed");
    assert_eq!(e["regarding"]["name"], "web");
    assert_eq!(e["reportingController"], "herald");
    assert_eq!(e["series"]["count"], 2);
    assert!(
        server.list("v1", "Event").is_empty(),
        "core/v1 Events are stored apart"
    );
}
