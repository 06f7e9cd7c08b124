#!/bin/bash
# agent-rss [N]: resident memory of `herald agent` holding N (default 10,000) IPv6 /128s towards 2 peers
# (169.254.255.1 and .2, both on the receiving BIRD), once both peers hold all N; gobgpd (MRT inject) and a
# BIRD sender in the same situation alongside. VmRSS and VmHWM from /proc/<pid>/status, in KiB.
source "$(dirname "$0")/../lib.sh"
source "$BENCH_DIR/scripts/herald-leg.sh"
N=${1:-10000}
netns_up
python3 "$BENCH_DIR/gen_mrt.py" list 6 "$N" > "$WORK/vips.txt"
printf '%s' "$MD5" > "$WORK/md5"; chmod 600 "$WORK/md5"
both_hold() { count_at_least master6 "$N" herald && count_at_least master6 "$N" herald2; }
rss() { awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{print r+0, h+0}' "/proc/$1/status"; }

herald_rss() {
  receiver_up 2
  local peers="169.254.255.1:$PEER_AS:$MD5:true,169.254.255.2:$PEER_AS:$MD5:true"
  start_herald "$WORK/vips.txt" --bgppeers "$peers" --sourceIP 192.0.2.2 || { echo "n/a n/a"; return; }
  wait_for "Herald sessions" herald_established herald || { echo "n/a n/a"; return; }
  wait_for "Herald sessions" herald_established herald2 || { echo "n/a n/a"; return; }
  wait_for "$N routes at both peers" both_hold || { echo "n/a n/a"; return; }
  sleep 1
  rss "$HERALD_PID"
  stop_herald
}
gobgpd_rss() {
  receiver_up 2
  {
    printf '[global.config]\n  as = %s\n  router-id = "192.0.2.2"\n  port = -1\n' "$NODE_AS"
    for peer in 169.254.255.1 169.254.255.2; do
      printf '[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "%s"\n    peer-as = %s\n    auth-password = "%s"\n' "$peer" "$PEER_AS" "$MD5"
      printf '  [neighbors.transport.config]\n    local-address = "192.0.2.2"\n  [neighbors.timers.config]\n    connect-retry = 1\n'
      printf '  [neighbors.ebgp-multihop.config]\n    enabled = true\n    multihop-ttl = 2\n'
      printf '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv6-unicast"\n'
    done
  } > "$WORK/gobgpd.toml"
  python3 "$BENCH_DIR/gen_mrt.py" mrt 6 "$N" 1024 "$WORK/dump.mrt"
  ip netns exec "$NODE" gobgpd -f "$WORK/gobgpd.toml" -l warn --pprof-disable --api-hosts=127.0.0.1:50051 >"$WORK/gobgpd.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  { wait_for "gobgpd sessions" established herald && wait_for "gobgpd sessions" established herald2; } || { echo "n/a n/a"; return; }
  ip netns exec "$NODE" gobgp -u 127.0.0.1 -p 50051 mrt inject global --no-ipv4 --nexthop 2001:db8:ff::2 "$WORK/dump.mrt"
  wait_for "$N routes at both peers" both_hold || { echo "n/a n/a"; return; }
  sleep 1
  rss "$pid"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
}
bird_rss() {
  receiver_up 2
  { sender_bird_conf 6 "$N"; sender_bird_conf 6 0 | sed -n '/^protocol bgp up /,/^}/p' \
      | sed 's/protocol bgp up /protocol bgp up2 /; s/neighbor 169.254.255.1 /neighbor 169.254.255.2 /'; } > "$WORK/sender.conf"
  ip netns exec "$NODE" bird -f -c "$WORK/sender.conf" -s "$WORK/sender.ctl" -P "$WORK/sender.pid" >"$WORK/sender.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  wait_for "$N routes at both peers" both_hold || { echo "n/a n/a"; return; }
  sleep 1
  rss "$pid"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
}

read -r H_RSS H_HWM < <(herald_rss | tail -n 1)
read -r G_RSS _ < <(gobgpd_rss | tail -n 1)
read -r B_RSS _ < <(bird_rss | tail -n 1)
[[ "${H_RSS:-}" =~ ^[0-9]+$ ]] || { H_RSS=not-available; H_HWM=not-available; }
echo "RESULT agent-rss herald_rss_kb=$H_RSS herald_hwm_kb=$H_HWM gobgpd_rss_kb=$G_RSS bird_rss_kb=$B_RSS prefixes=$N peers=2 herald_addresses=$(herald_addresses_label)"
