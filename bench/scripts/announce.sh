#!/bin/bash
# announce FAMILY N [RUNS]: time from "session up / routes handed to the sender" until the receiving BIRD
# holds all N host routes, for three senders side by side against the same receiver (fresh RIB each run):
#   herald  - `herald agent` with --vips-file of N prefixes; clock starts when BIRD marks the session Established
#   bird    - BIRD with N static routes, applied by `birdc configure` on an established session
#   gobgpd  - gobgpd, `gobgp mrt inject` of an MRT dump (padded with repeats: 3.10 drops the tail)
# Times come from BIRD's own route import stamps (ms), so the polling interval does not blur them.
# Prints one RESULT line with the medians and ratios herald/sender (< 1 means Herald is faster).
source "$(dirname "$0")/../lib.sh"
source "$BENCH_DIR/scripts/herald-leg.sh"
FAM=${1:?family 4|6}; N=${2:?count}; RUNS=${3:-${RUNS:-3}}; NAME=${BENCH_NAME:-announce-$FAM-$N}
TABLE=$(table_of "$FAM")
netns_up
python3 "$BENCH_DIR/gen_mrt.py" list "$FAM" "$N" > "$WORK/vips.txt"
printf '%s' "$MD5" > "$WORK/md5"; chmod 600 "$WORK/md5"

leg_bird() {
  receiver_up
  sender_bird_conf "$FAM" 0 > "$WORK/sender.conf"
  ip netns exec "$NODE" bird -f -c "$WORK/sender.conf" -s "$WORK/sender.ctl" -P "$WORK/sender.pid" >"$WORK/sender.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  wait_for "BIRD sender session" established || { echo n/a; return; }
  sender_bird_conf "$FAM" "$N" > "$WORK/sender.conf"
  local t0; t0=$(clock_tod_ms)
  birdc -s "$WORK/sender.ctl" configure >/dev/null
  wait_for "$N routes from BIRD" count_at_least "$TABLE" "$N" || { echo n/a; return; }
  tod_diff "$t0" "$(last_route_ms "$TABLE")"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
}

leg_gobgpd() {
  command -v gobgpd >/dev/null || { echo n/a; return; }
  receiver_up
  cat > "$WORK/gobgpd.toml" <<EOT
[global.config]
  as = $NODE_AS
  router-id = "192.0.2.2"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "169.254.255.1"
    peer-as = $PEER_AS
    auth-password = "$MD5"
  [neighbors.transport.config]
    local-address = "192.0.2.2"
  [neighbors.timers.config]
    connect-retry = 1
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 2
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
EOT
  local pad=$(( N < 1024 ? N : 1024 ))
  python3 "$BENCH_DIR/gen_mrt.py" mrt "$FAM" "$N" "$pad" "$WORK/dump.mrt"
  ip netns exec "$NODE" gobgpd -f "$WORK/gobgpd.toml" -l warn --pprof-disable --api-hosts=127.0.0.1:50051 >"$WORK/gobgpd.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  wait_for "gobgpd session" established || { echo n/a; return; }
  local t0 skip nh
  if [ "$FAM" = 6 ]; then skip=--no-ipv4; nh=2001:db8:ff::2; else skip=--no-ipv6; nh=192.0.2.2; fi
  t0=$(clock_tod_ms)
  ip netns exec "$NODE" gobgp -u 127.0.0.1 -p 50051 mrt inject global "$skip" --nexthop "$nh" "$WORK/dump.mrt"
  wait_for "$N routes from gobgpd" count_at_least "$TABLE" "$N" || { echo n/a; return; }
  tod_diff "$t0" "$(last_route_ms "$TABLE")"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
}

leg_herald() {
  receiver_up
  start_herald "$WORK/vips.txt" $(herald_single_peer_flags) || { echo n/a; return; }
  if ! wait_for "Herald session" herald_established herald; then
    echo "bench: herald log:" >&2; tail -n 20 "$WORK/herald.log" >&2; echo n/a; return
  fi
  if ! wait_for "$N routes from Herald" count_at_least "$TABLE" "$N"; then
    echo "bench: herald log:" >&2; tail -n 20 "$WORK/herald.log" >&2; echo n/a; return
  fi
  tod_diff "$(proto_since_ms herald)" "$(last_route_ms "$TABLE")"
  stop_herald
}

declare -A RES=()
for leg in herald bird gobgpd; do
  vals=()
  for _ in $(seq 1 "$RUNS"); do
    v=$("leg_$leg" | tail -n 1)
    echo "  $leg run: ${v} ms" >&2
    [[ "$v" =~ ^[0-9]+$ ]] || { vals=(); break; }
    vals+=("$v")
  done
  if [ ${#vals[@]} -eq 0 ]; then RES[$leg]=not-available; else RES[$leg]=$(printf '%s\n' "${vals[@]}" | median); fi
done
ratio() { [[ "${RES[herald]}" =~ ^[0-9]+$ && "$1" =~ ^[0-9]+$ && "$1" -gt 0 ]] && awk -v a="${RES[herald]}" -v b="$1" 'BEGIN{printf "%.2f", a/b}' || echo n/a; }
echo "RESULT $NAME herald_ms=${RES[herald]} bird_ms=${RES[bird]} gobgpd_ms=${RES[gobgpd]} ratio_bird=$(ratio "${RES[bird]}") ratio_gobgpd=$(ratio "${RES[gobgpd]}") n=$N family=ipv$FAM runs=$RUNS herald_addresses=$(herald_addresses_label)"
