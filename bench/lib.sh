# Shared helpers of the bench scripts (sourced). Everything runs in two namespaces made here:
#   node   ($NODE): 192.0.2.2/24, 2001:db8:ff::2/64 - the sender (Herald, BIRD or gobgpd)
#   router ($ROUTER): 192.0.2.1/24, 2001:db8:ff::1/64, lo 169.254.255.1 + .2 - the receiving BIRD
# (Equinix-like: multihop 2, MD5, receiver AS 65530, node AS 4200000001). Cleaned up by an EXIT trap.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
NODE_AS=4200000001
PEER_AS=65530
MD5=herald-md5
WAIT_S=${WAIT_S:-120}          # upper bound of every wait
# KEEP_LOGS=<dir>: copy daemon logs and configs there before cleaning up
POLL_S=0.01
NODE="hbb-$$-node"; ROUTER="hbb-$$-router"
WORK=$(mktemp -d /tmp/hbb-$$-XXXX)
RECV_SOCK=$WORK/receiver.ctl; RECV_SOCK2=$WORK/receiver2.ctl
PIDS=()

need() { command -v "$1" >/dev/null || { echo "bench: '$1' is not installed" >&2; exit 2; }; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 2; }
need ip; need bird; need birdc; need python3

now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }

cleanup() {
  local p f
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  # processes started from a subshell: their pid is only in a file
  for f in "$WORK"/*.bgpid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true; done
  for ns in "$NODE" "$ROUTER"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  if [ -n "${KEEP_LOGS:-}" ]; then
    mkdir -p "$KEEP_LOGS"; cp "$WORK"/*.log "$WORK"/*.conf "$WORK"/*.txt "$KEEP_LOGS"/ 2>/dev/null || true
    echo "bench: logs kept in $KEEP_LOGS" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# netns_up [peer_route=1]: the two namespaces, veth, addresses; the node's route to 169.254.255.0/30.
netns_up() {
  ip netns add "$NODE"; ip netns add "$ROUTER"
  ip link add n0 netns "$NODE" type veth peer name r0 netns "$ROUTER"
  ip -n "$NODE" link set lo up; ip -n "$ROUTER" link set lo up
  ip -n "$ROUTER" addr add 192.0.2.1/24 dev r0; ip -n "$ROUTER" addr add 2001:db8:ff::1/64 dev r0 nodad
  ip -n "$ROUTER" addr add 169.254.255.1/32 dev lo; ip -n "$ROUTER" addr add 169.254.255.2/32 dev lo
  ip -n "$NODE" addr add 192.0.2.2/24 dev n0; ip -n "$NODE" addr add 2001:db8:ff::2/64 dev n0 nodad
  ip -n "$ROUTER" link set r0 up; ip -n "$NODE" link set n0 up
  ip -n "$NODE" route add 169.254.255.1/32 via 192.0.2.1
  ip -n "$NODE" route add 169.254.255.2/32 via 192.0.2.1
  # An interface for Herald's VIPs (dummy; a veth with a down peer where the kernel has no dummy driver)
  ip -n "$NODE" link add vip0 type dummy 2>/dev/null || ip -n "$NODE" link add vip0 type veth peer name vip0p
  ip -n "$NODE" link set vip0 up
}

# --- background processes tracked in files ---
# A bench leg often runs in a subshell (`$(leg)`, `< <(leg)`): a pid kept in a shell variable there never
# reaches the main shell, so the next leg could not stop it (the receiver bug of announce.sh before
# 2026-12-01: every leg after the first silently reused the first receiving BIRD, because a second BIRD on
# the same control socket exits with "I found another BIRD running"). So every long-lived process is
# started with bg_start, which keeps its pid in $WORK/NAME.bgpid, and stopped with bg_stop NAME, which
# works from any (sub)shell.
# bg_start NAME CMD…: run CMD in the background (redirect the call's stdout/stderr to its log).
bg_start() {
  local name=$1; shift
  bg_stop "$name"
  "$@" &
  local pid=$!
  disown "$pid"   # no "Killed" job notices when bg_stop ends it (bash still reaps it)
  echo "$pid" > "$WORK/$name.bgpid"; PIDS+=("$pid")
}
bg_pid() { [ -f "$WORK/$1.bgpid" ] && cat "$WORK/$1.bgpid" || true; }
# alive PID: running and not a zombie
alive() { [ -n "$1" ] && [ -e "/proc/$1" ] && ! grep -q '^[^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
bg_alive() { alive "$(bg_pid "$1")"; }
# bg_stop NAME [SIGNAL=KILL]: signal the process and wait (bounded) until it is gone.
bg_stop() {
  local pid; pid=$(bg_pid "$1")
  [ -n "$pid" ] || return 0
  kill "-${2:-KILL}" "$pid" 2>/dev/null || true
  local deadline=$(( $(date +%s) + WAIT_S ))
  while alive "$pid"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "bench: $1 (pid $pid) did not exit" >&2; return 1; }
    sleep "$POLL_S"
  done
  wait "$pid" 2>/dev/null || true   # reap it when it is our child
  rm -f "$WORK/$1.bgpid"
}

# receiver_up [peers=1]: (re)start the receiving BIRD with an empty RIB: protocol herald on
# 169.254.255.1; with peers=2 a second BIRD (socket $RECV_SOCK2) whose protocol herald2 is on
# 169.254.255.2 (one BIRD cannot run two sessions to the same neighbor address). Both use strict bind.
# The session's parameters can be overridden for one bench (cold-start peers like the metadata
# document says): RECV_PEER_AS (receiver's AS), RECV_NODE_AS, RECV_MD5, RECV_EXTRA (lines added to the
# protocol, e.g. "passive on;").
receiver_up() {
  local peers=${1:-1}
  receiver_down
  sed -e "s/@PEER_AS@/${RECV_PEER_AS:-$PEER_AS}/; s/@NODE_AS@/${RECV_NODE_AS:-$NODE_AS}/; s/@MD5@/${RECV_MD5:-$MD5}/" \
      -e "s/^  strict bind on;/  strict bind on;\n  ${RECV_EXTRA:-}/" \
      "$BENCH_DIR/bird-receiver.conf" > "$WORK/receiver.conf"
  # both configs before start_receiver adds each one's own log file
  if [ "$peers" = 2 ]; then
    sed -e 's/protocol bgp herald /protocol bgp herald2 /; s/169.254.255.1/169.254.255.2/g' \
      "$WORK/receiver.conf" > "$WORK/receiver2.conf"
  fi
  start_receiver receiver "$WORK/receiver.conf" "$RECV_SOCK" || return 1
  if [ "$peers" = 2 ]; then start_receiver receiver2 "$WORK/receiver2.conf" "$RECV_SOCK2" || return 1; fi
}
# start_receiver NAME CONF SOCKET: one receiving BIRD, checked to be the one answering on SOCKET with
# an empty RIB (a fresh process, not a leftover).
start_receiver() {
  local name=$1 conf=$2 sock=$3
  # session events (the peer's NOTIFICATION text, e.g. an RFC 8203 shutdown communication) to a file:
  # `show protocols all` prints only the Cease subcode
  sed -i "1i log \"$WORK/$name-events.log\" all;" "$conf"
  if birdc_ok "$sock"; then echo "bench: a BIRD still answers on $sock before $name starts" >&2; return 1; fi
  rm -f "$sock"
  bg_start "$name" ip netns exec "$ROUTER" bird -f -c "$conf" -s "$sock" -P "$WORK/$name.pid" >"$WORK/$name.log" 2>&1
  wait_for "$name control socket" birdc_ok "$sock"
  if ! bg_alive "$name"; then
    echo "bench: $name exited; its log:" >&2; tail -n 5 "$WORK/$name.log" >&2; return 1
  fi
  local routes
  routes=$(birdc -s "$sock" show route count 2>/dev/null | awk '/routes for/ && !/^Total/ {s+=$1} END{print s+0}')
  [ "${routes:-0}" = 0 ] || { echo "bench: $name is not fresh ($routes routes)" >&2; return 1; }
  RECV_PID=$(bg_pid receiver)
}
receiver_down() {
  bg_stop receiver; bg_stop receiver2
  rm -f "$RECV_SOCK" "$RECV_SOCK2"
  RECV_PID=
}
# the control socket of the receiver running protocol $1
sock_of() { [ "${1:-herald}" = herald2 ] && echo "$RECV_SOCK2" || echo "$RECV_SOCK"; }
birdc_ok() { birdc -s "$1" show status 2>/dev/null | grep -q 'Daemon is up'; }
established() { birdc -s "$(sock_of "${1:-herald}")" show protocols "${1:-herald}" 2>/dev/null | grep -q Established; }

# wait_for DESCRIPTION COMMAND...: poll COMMAND until it succeeds, at most WAIT_S seconds.
wait_for() {
  local what=$1; shift
  local deadline=$(( $(date +%s) + WAIT_S ))
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "bench: timed out after ${WAIT_S}s waiting for $what" >&2; return 1; fi
    sleep "$POLL_S"
  done
}

# route_count TABLE [PROTOCOL]: routes the receiver holds from the protocol (default herald).
route_count() {
  birdc -s "$(sock_of "${2:-herald}")" show route count table "$1" protocol "${2:-herald}" 2>/dev/null \
    | awk '/routes for/{print $1; found=1} END{if(!found) print 0}'
}
count_at_least() { [ "$(route_count "$1" "${3:-herald}")" -ge "$2" ]; }  # TABLE N [PROTOCOL]
count_is() { [ "$(route_count "$1" "${3:-herald}")" -eq "$2" ]; }
table_of() { [ "$1" = 4 ] && echo master4 || echo master6; }

# sender_bird_conf FAMILY N: BIRD sender config with N static host routes.
sender_bird_conf() {
  local fam=$1 n=$2 chan table_routes
  cat <<EOT
router id 192.0.2.2;
protocol device {}
protocol static s4 { ipv4;
$( [ "$fam" = 4 ] && [ "$n" -gt 0 ] && python3 "$BENCH_DIR/gen_mrt.py" list 4 "$n" | sed 's|.*|  route &/32 blackhole;|' )
}
protocol static s6 { ipv6;
$( [ "$fam" = 6 ] && [ "$n" -gt 0 ] && python3 "$BENCH_DIR/gen_mrt.py" list 6 "$n" | sed 's|.*|  route &/128 blackhole;|' )
}
protocol bgp up {
  local 192.0.2.2 as $NODE_AS;
  neighbor 169.254.255.1 as $PEER_AS;
  multihop 2;
  password "$MD5";
  connect delay time 1; connect retry time 2;
  ipv4 { import none; export all; };
  ipv6 { import none; export all; next hop address 2001:db8:ff::2; };
}
EOT
}

# herald_bin: the release binary ($HERALD_BIN, else target/release/herald); empty when missing.
herald_bin() {
  local b=${HERALD_BIN:-$REPO_DIR/target/release/herald}
  [ -x "$b" ] && echo "$b" || true
}

median() { sort -n | awk '{a[NR]=$1} END{ if (NR==0) print "n/a"; else print a[int((NR+1)/2)] }'; }

# --- BIRD's own clock: precise start/end stamps, independent of the polling interval ---
# ms since midnight of a BIRD/`date` time of day "HH:MM:SS.mmm"
tod_ms() { awk -F'[:.]' '{ printf "%d\n", (($1*60 + $2)*60 + $3)*1000 + $4 }' <<<"$1"; }
clock_tod_ms() { tod_ms "$(date +%H:%M:%S.%3N)"; }
# When protocol $1 last changed state (the "Since" column), in ms of day.
proto_since_ms() {
  tod_ms "$(birdc -s "$RECV_SOCK" show protocols "${1:-herald}" | awk -v p="${1:-herald}" '$1==p {print $5}')"
}
# Import time of the newest route of protocol $2 in table $1, in ms of day.
last_route_ms() {
  birdc -s "$RECV_SOCK" show route table "$1" protocol "${2:-herald}" \
    | awk -F'[][ ]+' '{ for (i=1;i<NF;i++) if ($i=="'"${2:-herald}"'") print $(i+1) }' \
    | awk -F'[:.]' '{ t=(($1*60+$2)*60+$3)*1000+$4; if (t>m) m=t } END { print m+0 }'
}
# "FIRST LAST GAP" of the import stamps of protocol $2's routes in table $1 (ms of day; GAP = the longest
# pause between two consecutive imports): tells a sender that streams its routes from one that stalls.
route_stamp_summary() {
  birdc -s "$RECV_SOCK" show route table "$1" protocol "${2:-herald}" \
    | awk -F'[][ ]+' '{ for (i=1;i<NF;i++) if ($i=="'"${2:-herald}"'") print $(i+1) }' \
    | awk -F'[:.]' '{ print (($1*60+$2)*60+$3)*1000+$4 }' | sort -n \
    | awk 'NR==1{f=$1} NR>1 && $1-p>g {g=$1-p} {p=$1} END { print f+0, p+0, g+0 }'
}
# difference of two ms-of-day stamps, across midnight
tod_diff() { local d=$(( $2 - $1 )); [ "$d" -lt 0 ] && d=$(( d + 86400000 )); echo "$d"; }
