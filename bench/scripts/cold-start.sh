#!/bin/bash
# cold-start [RUNS=5]: process start → the control-plane VIP (198.51.100.10/32) imported by the peer.
# Start = a `date` stamp taken inside the node namespace right before `exec herald` (so `ip netns exec`
# is not counted); end = the receiving BIRD's import stamp of the route (its own ms clock). Also split at
# the receiver's "Established" stamp. The receivers are the metadata document's peers — 169.254.255.1 and
# .2, AS 65530, node AS 65000, MD5 ExamplePass123 — passive (they never connect out, so a failed connect
# of theirs cannot put them in a back-off that delays the agent's first connect), fresh for every run.
#
# Legs (interleaved per run):
#   static        --kubernetes=false, both peers as --bgppeers: no apiserver, no provider
#   static-kube   Kubernetes mode, same static peers, a kubeconfig pointing at a closed port
#   metadata-warm Kubernetes mode (kubeconfig to a closed port), equinix-metadata against
#                 host/herald/tests/fixtures/metadata-lab.json on 127.0.0.1, the compiled component
#                 already in HERALD_CACHE_DIR (primed by one untimed run)
#   metadata-cold the same with an empty HERALD_CACHE_DIR (the component is compiled at start)
# COLD_KUBE=off runs the metadata legs with --kubernetes=false instead of the unreachable apiserver.
# "Cold" is the component cache only: the binary and the .wasm are in the page cache after the first run.
source "$(dirname "$0")/../lib.sh"
source "$BENCH_DIR/scripts/herald-leg.sh"
source "$BENCH_DIR/scripts/kube-leg.sh"
RUNS=${1:-${RUNS:-5}}
VIP=198.51.100.10
LEGS=(${COLD_LEGS:-static static-kube metadata-warm metadata-cold})
netns_up
metadata_up
RECV_NODE_AS=$METADATA_LOCAL_AS; RECV_MD5=$METADATA_MD5; RECV_EXTRA="passive on;"
NOWHERE=$(kubeconfig_nowhere)
[ -n "$(provider_dir)" ] || { echo "bench: no equinix-metadata.wasm built (set HERALD_PROVIDER_DIR)" >&2; exit 2; }
STATIC_PEERS=(--localAS "$METADATA_LOCAL_AS" --bgpRouterID 192.0.2.2 --sourceIP 192.0.2.2 --multihopTTL 2
  --bgppeers "169.254.255.1:65530:$METADATA_MD5:true,169.254.255.2:65530:$METADATA_MD5:true")
if [ "${COLD_KUBE:-nowhere}" = off ]; then KUBE_FLAGS=(--kubernetes=false); else KUBE_FLAGS=(--k8sConfigPath "$NOWHERE"); fi

leg_args() {  # LEG → the agent's arguments
  case "$1" in
    static)        echo --kubernetes=false "${STATIC_PEERS[@]}" --vip "$VIP" ;;
    static-kube)   echo --k8sConfigPath "$NOWHERE" "${STATIC_PEERS[@]}" --controlplane --vip "$VIP" ;;
    metadata-*)    echo "${KUBE_FLAGS[@]}" $(metadata_flags) --controlplane --vip "$VIP" ;;
  esac
}
# start_timed CACHE_DIR ARGS…: the agent, with the start stamp (ms of day) written to $WORK/t0
start_timed() {
  local cache=$1; shift
  local bin; bin=$(herald_bin)
  [ -n "$bin" ] || { echo "bench: no herald binary" >&2; return 1; }
  bg_start herald ip netns exec "$NODE" env HERALD_LOG="${HERALD_LOG:-info}" HERALD_PROVIDER_DIR="$(provider_dir)" \
    HERALD_CACHE_DIR="$cache" bash -c 'date +%H:%M:%S.%3N > "$0"; exec "$@"' "$WORK/t0" \
    "$bin" agent --nodeName "$BENCH_NODE" --interface vip0 --prometheusHTTPServer "$OBSERVE" "$@" >"$WORK/herald.log" 2>&1
  HERALD_PID=$(bg_pid herald)
}
# the VIP is at the peer, or the agent exited (HERALD_DIED=1: no point waiting on)
vip_held() { herald_up || { HERALD_DIED=1; return 0; }; count_at_least master4 1; }

# run_leg LEG CACHE_DIR → LEG_OUT="total established_at est_to_route" (ms) or "n/a n/a n/a"
run_leg() {
  local leg=$1 cache=$2 t0 est end
  LEG_OUT="n/a n/a n/a"
  receiver_up 2
  # shellcheck disable=SC2046  # leg_args prints separate words on purpose
  start_timed "$cache" $(leg_args "$leg") || return 0
  HERALD_DIED=0
  if ! wait_for "$VIP at the peer ($leg)" vip_held || [ "$HERALD_DIED" = 1 ]; then
    echo "bench: $leg: no VIP; herald log:" >&2; tail -n 20 "$WORK/herald.log" >&2; stop_herald; return 0
  fi
  t0=$(tod_ms "$(cat "$WORK/t0")"); end=$(last_route_ms master4); est=$(proto_since_ms herald)
  LEG_OUT="$(tod_diff "$t0" "$end") $(tod_diff "$t0" "$est") $(tod_diff "$est" "$end")"
  stop_herald
}

# the warm cache: one untimed run compiles the component into it
mkdir -p "$WORK/cache-warm"
if [[ " ${LEGS[*]} " == *" metadata-warm "* ]]; then
  run_leg metadata-warm "$WORK/cache-warm"
  echo "  priming run (fills the warm cache): ${LEG_OUT%% *} ms" >&2
fi

declare -A TOTAL=() EST=() ROUTE=()
for run in $(seq 1 "$RUNS"); do
  for leg in "${LEGS[@]}"; do
    cache=$WORK/cache-warm
    if [ "$leg" = metadata-cold ]; then cache=$WORK/cache-cold-$run; mkdir -p "$cache"; fi
    run_leg "$leg" "$cache"
    cp "$WORK/herald.log" "$WORK/herald-$leg-$run.log" 2>/dev/null || true
    read -r total est route <<<"$LEG_OUT"
    echo "  run $run $leg: ${total} ms to the VIP at the peer (Established at ${est} ms, +${route} ms to the route)" >&2
    [[ "$total" =~ ^[0-9]+$ ]] || continue
    TOTAL[$leg]="${TOTAL[$leg]:-} $total"; EST[$leg]="${EST[$leg]:-} $est"; ROUTE[$leg]="${ROUTE[$leg]:-} $route"
  done
done
med() { [ -n "$1" ] && printf '%s\n' $1 | median || echo not-available; }
out="RESULT cold-start"
for leg in "${LEGS[@]}"; do
  k=${leg//-/_}
  out+=" ${k}_ms=$(med "${TOTAL[$leg]:-}") ${k}_established_ms=$(med "${EST[$leg]:-}")"
done
echo "$out runs=$RUNS kube=${COLD_KUBE:-nowhere} vip=$VIP"
