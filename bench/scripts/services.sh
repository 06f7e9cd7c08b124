#!/bin/bash
# services MODE [ARGS]: `herald agent --services` in Kubernetes mode against the fake apiserver (both in
# the node namespace), one static peer (the receiving BIRD on 169.254.255.1), LoadBalancer Services with
# IPv6 /128 VIPs from 2001:db8:1::/64 created through the fake apiserver's side channel (bench/kube.py).
#
#   latency [N=200] [PAUSE_MS=20]  Services created one by one, PAUSE_MS apart; per Service, ms from the
#                                  watch event (the fake apiserver's watch log: when the ADDED event was
#                                  first written to the agent's watch) to the receiver's import stamp of
#                                  its /128 (BIRD's own ms clock). RESULT service-latency p50_ms p99_ms …
#   rss [N1=1000] [N2=10000]       VmRSS of the agent once the receiver holds N1, then N2 Services' routes
#                                  (and every Service has its status written), after a 2 s settle; then a
#                                  restarted agent with the N2 Services present, and one starting against N2
#                                  Services without status (see mode_rss).
#                                  RESULT agent-rss-services rss_1000_kib rss_10000_kib per_service_bytes …
#   withdraw [N=1000] [RUNS=3]     the agent announcing N Services gets SIGTERM: ms until the receiver
#                                  holds none (polled every 10 ms), until BIRD saw the session close, until
#                                  the process exited. RESULT withdraw-services herald_ms …
#
# Peers: the static peer (--peerAddress …, no provider), so the numbers are the agent's own; PEERS=metadata
# uses the equinix-metadata provider (metadata-lab.json served from 127.0.0.1, two peers) instead, which adds
# the wasm runtime to the RSS. VIP addresses: HERALD_ADDRESSES=1 also puts every VIP on vip0 (default for
# `latency`, where 200 addresses are cheap; off for rss/withdraw, where the kernel's cost for thousands of
# IPv6 addresses would swamp the agent's, see herald-leg.sh).
source "$(dirname "$0")/../lib.sh"
source "$BENCH_DIR/scripts/herald-leg.sh"
source "$BENCH_DIR/scripts/kube-leg.sh"
MODE=${1:?mode: latency|rss|withdraw}; shift
PEERS=${PEERS:-static}
case "$MODE" in latency) HERALD_ADDRESSES=${HERALD_ADDRESSES:-1} ;; *) HERALD_ADDRESSES=${HERALD_ADDRESSES:-0} ;; esac
netns_up
printf '%s' "$MD5" > "$WORK/md5"; chmod 600 "$WORK/md5"
mkdir -p "$WORK/cache"

# receivers and agent flags for the chosen peer source
if [ "$PEERS" = metadata ]; then
  RECV_NODE_AS=$METADATA_LOCAL_AS; RECV_MD5=$METADATA_MD5; RECV_PEERS=2
  metadata_up
  peer_flags() { metadata_flags; }
else
  RECV_PEERS=1
  peer_flags() { static_peer_flags; }
fi
held() { route_count master6; }

# agent_up: fresh receiver(s), the agent, its session up and its Service watch open.
agent_up() {
  receiver_up "$RECV_PEERS"
  start_kube_agent --k8sConfigPath "$KUBECONFIG_OUT" --services $(peer_flags) $(herald_address_flags) \
    --holdTime 9 --keepalive 3 || return 1
  if ! wait_for "the agent's session" herald_established herald; then tail -n 20 "$WORK/herald.log" >&2; return 1; fi
  wait_for "the agent's Service watch" kube_py watching
}
# wait_held N: the receiver holds exactly N of the agent's routes
wait_held() {
  if ! wait_for "$1 routes at the receiver" count_is master6 "$1"; then
    echo "bench: the receiver holds $(held); herald log:" >&2; tail -n 20 "$WORK/herald.log" >&2; return 1
  fi
}
status_written() { [ "$(kube_py status-count)" -ge "$1" ]; }
slow_poll() { local POLL_S=0.5; wait_for "$@"; }  # for checks that list every Service

mode_latency() {
  local n=${1:-200} pause=${2:-20}
  agent_up
  kube_py services 0 "$n" "$pause"
  wait_held "$n"
  birdc -s "$RECV_SOCK" show route all table master6 protocol herald > "$WORK/routes.txt"
  local p50 p99 max got p50s p99s
  read -r p50 p99 max got p50s p99s < <(kube_py latency "$WORK/routes.txt" 0 "$n")
  slow_poll "status of $n Services" status_written "$n"
  stop_herald
  echo "RESULT service-latency p50_ms=$p50 p99_ms=$p99 max_ms=$max n=$got p50_from_store_ms=$p50s p99_from_store_ms=$p99s status_writes=$(kube_py writes) pause_ms=$pause peers=$PEERS herald_addresses=$(herald_addresses_label)"
}

# rss_leg LABEL N: once the receiver holds N routes and every Service has its status, settle, read RSS.
# Sets RSS_KIB, HWM_KIB, HELD_MS (since $t0).
rss_leg() {
  wait_held "$2"; HELD_MS=$(ms_since "$t0")
  slow_poll "status of $2 Services" status_written "$2"
  sleep 2
  read -r RSS_KIB HWM_KIB < <(rss_of "$HERALD_PID")
  echo "  $1: routes held after ${HELD_MS} ms, VmRSS ${RSS_KIB} KiB (VmHWM ${HWM_KIB}), status writes so far $(kube_py writes)" >&2
}

# Three agents, one after the other:
#  A: Services created while it runs, N1 then N2 (the goal's numbers: rss_N1_kib, rss_N2_kib, per_service_bytes);
#  B: a restart with the N2 Services already there, statuses written (steady state without churn);
#  C: a start against N2 Services with no status yet (re-created without it: a first rollout), where the
#     agent writes every status at once.
mode_rss() {
  local n1=${1:-1000} n2=${2:-10000} t0 r0 r1 h1 a1 r2 h2 a2 w2 rb hb ab rc hc ac wc
  if [ "$PEERS" = metadata ]; then
    # compile the component into the cache first: a first start's compiler memory is no per-Service cost
    agent_up; stop_herald
  fi
  agent_up
  read -r r0 _ < <(rss_of "$HERALD_PID")
  t0=$(now_ns); kube_py services 0 "$n1" 0
  rss_leg "A, $n1 Services created while running" "$n1"; r1=$RSS_KIB h1=$HWM_KIB a1=$HELD_MS
  t0=$(now_ns); kube_py services "$n1" "$(( n2 - n1 ))" 0
  rss_leg "A, $n2 Services created while running" "$n2"; r2=$RSS_KIB h2=$HWM_KIB a2=$HELD_MS; w2=$(kube_py writes)
  stop_herald

  t0=$(now_ns); agent_up
  rss_leg "B, restart with $n2 Services (statuses written)" "$n2"; rb=$RSS_KIB hb=$HWM_KIB ab=$HELD_MS
  stop_herald

  kube_py services 0 "$n2" 0   # the same Services again, without status
  local before; before=$(kube_py writes)
  t0=$(now_ns); agent_up
  rss_leg "C, start with $n2 Services without status" "$n2"; rc=$RSS_KIB hc=$HWM_KIB ac=$HELD_MS
  wc=$(( $(kube_py writes) - before ))
  stop_herald

  local per; per=$(( (r2 - r1) * 1024 / (n2 - n1) ))
  echo "RESULT agent-rss-services rss_0_kib=$r0 rss_${n1}_kib=$r1 rss_${n2}_kib=$r2 per_service_bytes=$per hwm_${n2}_kib=$h2 status_writes_${n2}=$w2 rss_restart_${n2}_kib=$rb rss_unwritten_${n2}_kib=$rc hwm_unwritten_${n2}_kib=$hc status_writes_unwritten=$wc held_restart_ms=$ab held_unwritten_ms=$ac peers=$PEERS herald_addresses=$(herald_addresses_label)"
}

mode_withdraw() {
  local n=${1:-1000} runs=${2:-${RUNS:-3}} gone closed exited t0 t0_tod
  local G=() C=() E=()
  # The Services exist before each run's agent starts: it gets them from its initial list.
  kube_py services 0 "$n" 0
  for run in $(seq 1 "$runs"); do
    agent_up
    wait_held "$n"
    slow_poll "status of $n Services" status_written "$n"
    t0=$(now_ns); t0_tod=$(clock_tod_ms)
    kill -TERM "$HERALD_PID"
    wait_for "the receiver to drop all routes" count_is master6 0 || { tail -n 20 "$WORK/herald.log" >&2; break; }
    gone=$(ms_since "$t0")
    wait_for "session to close" bash -c "! birdc -s '$RECV_SOCK' show protocols herald | grep -q Established" || true
    closed=$(tod_diff "$t0_tod" "$(proto_since_ms herald)")
    wait_for "agent exit" bash -c "! kill -0 $HERALD_PID 2>/dev/null" && exited=$(ms_since "$t0") || exited=n/a
    bg_stop herald; HERALD_PID=
    echo "  run $run: routes gone ${gone} ms, session closed ${closed} ms, exited ${exited} ms" >&2
    # what BIRD saw: the RFC 8203 shutdown communication of the Cease
    grep -h 'Received:' "$WORK/receiver-events.log" | tail -n 1 | sed 's/^/    receiver: /' >&2 || true
    G+=("$gone"); C+=("$closed"); E+=("$exited")
  done
  med() { [ $# -gt 0 ] && printf '%s\n' "$@" | median || echo not-available; }
  echo "RESULT withdraw-services herald_ms=$(med "${G[@]}") session_close_ms=$(med "${C[@]}") exit_ms=$(med "${E[@]}") max_ms=$(printf '%s\n' "${G[@]:-n/a}" | sort -n | tail -n 1) n=$n runs=${#G[@]} peers=$PEERS herald_addresses=$(herald_addresses_label)"
}

apiserver_up
"mode_$MODE" "$@"
