# Sourced by the Kubernetes-mode benches (after lib.sh and herald-leg.sh): the fake apiserver, the
# agent in Kubernetes mode, a metadata server for equinix-metadata. Everything listens on the node
# namespace's own 127.0.0.1 (the only loopback the agent there can reach); the side channel is driven
# by bench/kube.py run inside that namespace.
API_URL=http://127.0.0.1:6443
OBSERVE=127.0.0.1:2112
METADATA_PORT=8080
BENCH_NODE=bench-node
KUBECONFIG_OUT=$WORK/kubeconfig

# fake_apiserver_bin: $FAKE_APISERVER_BIN, else target/release/fake-apiserver; empty when missing.
fake_apiserver_bin() {
  local b=${FAKE_APISERVER_BIN:-$REPO_DIR/target/release/fake-apiserver}
  [ -x "$b" ] && echo "$b" || true
}
kube_py() { ip netns exec "$NODE" python3 "$BENCH_DIR/kube.py" "$1" "$API_URL" "${@:2}"; }

apiserver_up() {
  local bin; bin=$(fake_apiserver_bin)
  [ -n "$bin" ] || { echo "bench: no fake-apiserver binary (cargo build --release -p herald-fake-apiserver --bin fake-apiserver, or set FAKE_APISERVER_BIN)" >&2; return 1; }
  bg_start apiserver ip netns exec "$NODE" "$bin" --listen "${API_URL#http://}" --kubeconfig-out "$KUBECONFIG_OUT" \
    >"$WORK/apiserver.log" 2>&1
  wait_for "fake apiserver" grep -q '^kubeconfig ' "$WORK/apiserver.log"  # printed after 'listening on'
  kube_py node "$BENCH_NODE"
}

# A kubeconfig whose server refuses every connection (nothing listens on port 1): Kubernetes mode with
# the apiserver down, as a static pod sees it before the control plane is up.
kubeconfig_nowhere() {
  sed "s|server: .*|server: http://127.0.0.1:1|" > "$WORK/kubeconfig-nowhere" <<'EOT'
apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster:
    server: x
contexts:
- name: nowhere
  context:
    cluster: nowhere
    user: nowhere
current-context: nowhere
users:
- name: nowhere
  user:
    token: none
EOT
  echo "$WORK/kubeconfig-nowhere"
}

# The equinix-metadata provider's component directory: $HERALD_PROVIDER_DIR, else this checkout's
# dist/ (scripts/dist), else its wasm32-wasip2 release build, else the newest test build.
provider_dir() {
  if [ -n "${HERALD_PROVIDER_DIR:-}" ]; then echo "$HERALD_PROVIDER_DIR"; return; fi
  local f d
  for d in "$REPO_DIR/dist/lib/herald/providers" "$REPO_DIR/target/wasm32-wasip2/release"; do
    if [ -f "$d/equinix-metadata.wasm" ] || [ -f "$d/equinix_metadata.wasm" ]; then echo "$d"; return; fi
  done
  f=$(ls -t "$REPO_DIR"/target/release/build/herald-artifacts-*/out/providers/equinix-metadata.wasm \
             "$REPO_DIR"/target/debug/build/herald-artifacts-*/out/providers/equinix-metadata.wasm 2>/dev/null | head -n 1)
  [ -n "$f" ] && dirname "$f" || true
}

# metadata_up: serve host/herald/tests/fixtures/metadata-lab.json as /metadata on 127.0.0.1:8080 in the
# node namespace (peers 169.254.255.1/.2 AS 65530, local AS 65000, MD5 ExamplePass123, source 192.0.2.2).
METADATA_MD5=ExamplePass123
METADATA_LOCAL_AS=65000
metadata_up() {
  mkdir -p "$WORK/metadata-root"
  cp "$REPO_DIR/host/herald/tests/fixtures/metadata-lab.json" "$WORK/metadata-root/metadata"
  bg_start metadata ip netns exec "$NODE" python3 -m http.server --bind 127.0.0.1 --directory "$WORK/metadata-root" \
    "$METADATA_PORT" >"$WORK/metadata.log" 2>&1
  wait_for "metadata server" ip netns exec "$NODE" python3 -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$METADATA_PORT/metadata', timeout=2)"  2>/dev/null
}
metadata_flags() {
  echo --provider equinix-metadata --config "metadata-url=http://127.0.0.1:$METADATA_PORT/metadata" \
    --allow-host "127.0.0.1:$METADATA_PORT"
}

# start_kube_agent ARGS…: `herald agent` in Kubernetes mode (HERALD_PID), log in $WORK/herald.log.
# The caller gives the peers (static flags or a provider) and what to announce.
start_kube_agent() {
  local bin; bin=$(herald_bin)
  [ -n "$bin" ] || { echo "bench: no herald binary (set HERALD_BIN or build target/release/herald)" >&2; return 1; }
  bg_start herald ip netns exec "$NODE" env HERALD_LOG="${HERALD_LOG:-info}" \
    HERALD_PROVIDER_DIR="$(provider_dir)" HERALD_CACHE_DIR="${HERALD_CACHE_DIR:-$WORK/cache}" \
    "$bin" agent --nodeName "$BENCH_NODE" --interface vip0 --prometheusHTTPServer "$OBSERVE" "$@" \
    >"$WORK/herald.log" 2>&1
  HERALD_PID=$(bg_pid herald)
}
static_peer_flags() {
  echo --localAS "$NODE_AS" --bgpRouterID 192.0.2.2 --peerAddress 169.254.255.1 --peerAS "$PEER_AS" \
    --peerPassFile "$WORK/md5" --multihop --multihopTTL 2 --sourceIP 192.0.2.2
}
# rss_of PID: "VmRSS VmHWM" in KiB
rss_of() { awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{print r+0, h+0}' "/proc/$1/status"; }
