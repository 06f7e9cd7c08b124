#!/bin/bash
# announce FAMILY N [RUNS]: time until the receiving BIRD holds all N host routes, for three senders
# against the same receiver, each run with a fresh receiver (new process, empty RIB). Two clocks:
#
#  from Established (like with like; the RESULT's *_est_ms):
#   herald       - `herald agent --vips-file` (N prefixes): it knows its routes before the session exists
#   bird-est     - BIRD with the N static routes loaded and its BGP protocol `disabled`, then `birdc enable`
#   gobgpd-est   - gobgpd with the neighbor `admin-down`, `gobgp mrt inject` into its RIB, then
#                  `gobgp neighbor … enable`
#  each clocked from the receiver's "Established" stamp to its last route import stamp.
#
#  from handing the routes to an established sender (how a running sender reacts to new routes):
#   bird-cfg     - BIRD on an established session, N static routes applied by `birdc configure`
#   gobgpd-inj   - gobgpd on an established session, `gobgp mrt inject` (padded: 3.10 drops the tail)
#  clocked from just before the command to the last import stamp.
#
# Times come from BIRD's own route import stamps (ms), so the polling interval does not blur them.
# Prints one RESULT line with the medians and ratios herald/sender (< 1 means Herald is faster).
#
# Caveat for bird-est: a BIRD 2 sender that sits idle with its routes queued, then gets `enable`, may
# wait out its event loop's poll timeout (~3 s) before it sends them (seen here as a few runs of ~3000 ms
# and others of a few tens of ms). That is BIRD's scheduling, not the cost of sending the routes: read
# the per-run values on stderr (and the min) before calling any gap a Herald win.
source "$(dirname "$0")/../lib.sh"
source "$BENCH_DIR/scripts/herald-leg.sh"
FAM=${1:?family 4|6}; N=${2:?count}; RUNS=${3:-${RUNS:-3}}; NAME=${BENCH_NAME:-announce-$FAM-$N}
TABLE=$(table_of "$FAM")
netns_up
python3 "$BENCH_DIR/gen_mrt.py" list "$FAM" "$N" > "$WORK/vips.txt"
printf '%s' "$MD5" > "$WORK/md5"; chmod 600 "$WORK/md5"
if [ "$FAM" = 6 ]; then SKIP_FAM=--no-ipv4; NH=2001:db8:ff::2; else SKIP_FAM=--no-ipv6; NH=192.0.2.2; fi
GOBGP=(ip netns exec "$NODE" gobgp -u 127.0.0.1 -p 50051)

# Every leg sets LEG_MS (a number, or n/a) and is called in the main shell (no `$( … )`), so the
# processes it started are known to the next leg; stop_senders ends them whatever path the leg took.
stop_senders() { stop_herald; bg_stop sender; bg_stop gobgpd; rm -f "$WORK/sender.ctl"; }
fail_leg() { echo "bench: $1" >&2; LEG_MS=n/a; stop_senders; }
# LEG_MS = the receiver's "Established" stamp → its last import stamp; LEG_PAUSE = the longest pause
# between two consecutive imports (a sender that stalls shows it here); the shape on stderr
est_to_last() {
  local est first last gap
  est=$(proto_since_ms herald)
  read -r first last gap < <(route_stamp_summary "$TABLE")
  echo "    first route +$(tod_diff "$est" "$first") ms, last +$(tod_diff "$est" "$last") ms, longest pause between imports ${gap} ms" >&2
  LEG_MS=$(tod_diff "$est" "$last"); LEG_PAUSE=$gap
}

start_bird_sender() {  # CONF
  bg_start sender ip netns exec "$NODE" bird -f -c "$1" -s "$WORK/sender.ctl" -P "$WORK/sender.pid" >"$WORK/sender.log" 2>&1
  wait_for "BIRD sender control socket" birdc_ok "$WORK/sender.ctl"
}
sender_routes() { birdc -s "$WORK/sender.ctl" show route count table "$TABLE" 2>/dev/null | awk '/routes for/{print $1; f=1} END{if(!f) print 0}'; }
sender_holds() { [ "$(sender_routes)" -ge "$N" ]; }

gobgpd_conf() {  # ADMIN_DOWN(true|false)
  cat <<EOT
[global.config]
  as = $NODE_AS
  router-id = "192.0.2.2"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "169.254.255.1"
    peer-as = $PEER_AS
    auth-password = "$MD5"
    admin-down = $1
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
}
start_gobgpd() {  # ADMIN_DOWN
  gobgpd_conf "$1" > "$WORK/gobgpd.toml"
  bg_start gobgpd ip netns exec "$NODE" gobgpd -f "$WORK/gobgpd.toml" -l warn --pprof-disable --api-hosts=127.0.0.1:50051 >"$WORK/gobgpd.log" 2>&1
  wait_for "gobgpd API" bash -c "${GOBGP[*]} global >/dev/null 2>&1"
}
gobgp_rib_count() {
  local afi; [ "$FAM" = 6 ] && afi=ipv6 || afi=ipv4
  "${GOBGP[@]}" global rib -a "$afi" summary 2>/dev/null | awk '/Destination:/{gsub(",","",$2); print $2; f=1} END{if(!f) print 0}'
}
gobgp_holds() { [ "$(gobgp_rib_count)" -ge "$N" ]; }
inject_mrt() {
  "${GOBGP[@]}" mrt inject global "$SKIP_FAM" --nexthop "$NH" "$WORK/dump.mrt"
}

leg_herald() {
  receiver_up
  start_herald "$WORK/vips.txt" $(herald_single_peer_flags) || { fail_leg "no herald"; return; }
  if ! wait_for "Herald session" herald_established herald || ! wait_for "$N routes from Herald" count_at_least "$TABLE" "$N"; then
    tail -n 20 "$WORK/herald.log" >&2; fail_leg "herald leg failed"; return
  fi
  est_to_last
  stop_senders
}

leg_bird_est() {
  receiver_up
  sender_bird_conf "$FAM" "$N" | sed 's/^protocol bgp up {/protocol bgp up {\n  disabled;/' > "$WORK/sender.conf"
  start_bird_sender "$WORK/sender.conf" || { fail_leg "BIRD sender did not start"; return; }
  wait_for "BIRD sender to load $N static routes" sender_holds || { fail_leg "BIRD sender has no routes"; return; }
  birdc -s "$WORK/sender.ctl" enable up >/dev/null
  wait_for "BIRD sender session" established || { fail_leg "BIRD session"; return; }
  wait_for "$N routes from BIRD" count_at_least "$TABLE" "$N" || { fail_leg "BIRD routes"; return; }
  est_to_last
  stop_senders
}

leg_bird_cfg() {
  receiver_up
  sender_bird_conf "$FAM" 0 > "$WORK/sender.conf"
  start_bird_sender "$WORK/sender.conf" || { fail_leg "BIRD sender did not start"; return; }
  wait_for "BIRD sender session" established || { fail_leg "BIRD session"; return; }
  sender_bird_conf "$FAM" "$N" > "$WORK/sender.conf"
  local t0; t0=$(clock_tod_ms)
  birdc -s "$WORK/sender.ctl" configure >/dev/null
  wait_for "$N routes from BIRD" count_at_least "$TABLE" "$N" || { fail_leg "BIRD routes"; return; }
  LEG_MS=$(tod_diff "$t0" "$(last_route_ms "$TABLE")")
  stop_senders
}

leg_gobgpd_est() {
  command -v gobgpd >/dev/null || { fail_leg "no gobgpd"; return; }
  receiver_up
  start_gobgpd true || { fail_leg "gobgpd did not start"; return; }
  inject_mrt
  wait_for "gobgpd RIB to hold $N routes" gobgp_holds || { fail_leg "gobgpd RIB"; return; }
  established && { fail_leg "gobgpd session came up while admin-down"; return; }
  "${GOBGP[@]}" neighbor 169.254.255.1 enable >/dev/null
  wait_for "gobgpd session" established || { fail_leg "gobgpd session"; return; }
  wait_for "$N routes from gobgpd" count_at_least "$TABLE" "$N" || { fail_leg "gobgpd routes"; return; }
  est_to_last
  stop_senders
}

leg_gobgpd_inj() {
  command -v gobgpd >/dev/null || { fail_leg "no gobgpd"; return; }
  receiver_up
  start_gobgpd false || { fail_leg "gobgpd did not start"; return; }
  wait_for "gobgpd session" established || { fail_leg "gobgpd session"; return; }
  local t0; t0=$(clock_tod_ms)
  inject_mrt
  wait_for "$N routes from gobgpd" count_at_least "$TABLE" "$N" || { fail_leg "gobgpd routes"; return; }
  LEG_MS=$(tod_diff "$t0" "$(last_route_ms "$TABLE")")
  stop_senders
}

if command -v gobgpd >/dev/null; then
  python3 "$BENCH_DIR/gen_mrt.py" mrt "$FAM" "$N" "$(( N < 1024 ? N : 1024 ))" "$WORK/dump.mrt"
fi
LEGS=(herald bird_est gobgpd_est bird_cfg gobgpd_inj)
declare -A RES=() MIN=()
# Runs interleave the legs (herald, bird-est, …, herald, …) so a slow minute of the machine hits all.
declare -A VALS=() PAUSES=()
for run in $(seq 1 "$RUNS"); do
  for leg in "${LEGS[@]}"; do
    [ "${VALS[$leg]:-}" = fail ] && continue
    LEG_MS=n/a; LEG_PAUSE=
    "leg_$leg"
    echo "  run $run ${leg//_/-}: ${LEG_MS} ms" >&2
    if [[ "$LEG_MS" =~ ^[0-9]+$ ]]; then VALS[$leg]="${VALS[$leg]:-} $LEG_MS"; else VALS[$leg]=fail; fi
    [ -n "$LEG_PAUSE" ] && PAUSES[$leg]="${PAUSES[$leg]:-} $LEG_PAUSE"
  done
done
for leg in "${LEGS[@]}"; do
  if [ "${VALS[$leg]:-fail}" = fail ]; then RES[$leg]=not-available; MIN[$leg]=not-available; continue; fi
  # shellcheck disable=SC2086  # word splitting of the space-separated values is intended
  RES[$leg]=$(printf '%s\n' ${VALS[$leg]} | median)
  MIN[$leg]=$(printf '%s\n' ${VALS[$leg]} | sort -n | head -n 1)
done
ratio() { [[ "${RES[herald]}" =~ ^[0-9]+$ && "$1" =~ ^[0-9]+$ && "$1" -gt 0 ]] && awk -v a="${RES[herald]}" -v b="$1" 'BEGIN{printf "%.2f", a/b}' || echo n/a; }
echo "RESULT $NAME herald_ms=${RES[herald]} bird_est_ms=${RES[bird_est]} gobgpd_est_ms=${RES[gobgpd_est]} bird_cfg_ms=${RES[bird_cfg]} gobgpd_inject_ms=${RES[gobgpd_inj]} ratio_bird_est=$(ratio "${RES[bird_est]}") ratio_gobgpd_est=$(ratio "${RES[gobgpd_est]}") ratio_bird_cfg=$(ratio "${RES[bird_cfg]}") ratio_gobgpd_inject=$(ratio "${RES[gobgpd_inj]}") min_herald_ms=${MIN[herald]} min_bird_est_ms=${MIN[bird_est]} min_gobgpd_est_ms=${MIN[gobgpd_est]} bird_est_longest_pause_ms=$(printf '%s\n' ${PAUSES[bird_est]:-n/a} | median) herald_longest_pause_ms=$(printf '%s\n' ${PAUSES[herald]:-n/a} | median) n=$N family=ipv$FAM runs=$RUNS herald_addresses=$(herald_addresses_label)"
