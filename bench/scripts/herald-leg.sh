# Sourced by the Herald benches: start_herald VIPS_FILE PEERS_FLAGS… ; sets HERALD_PID.
# HERALD_ADDRESSES=1 also puts every VIP on vip0. Off by default: the kernel needs minutes for 10,000 IPv6
# addresses on one interface (measured: `ip -batch` of 10,000 `addr add …/128` took 1.5 min on lo, 3 min
# on a veth, on this busy 2-core machine), which would swamp the BGP numbers; BIRD and gobgpd add none.
herald_address_flags() { [ "${HERALD_ADDRESSES:-0}" = 1 ] || echo --announceOnly; }
herald_addresses_label() { [ "${HERALD_ADDRESSES:-0}" = 1 ] && echo on || echo off; }
start_herald() {
  local bin; bin=$(herald_bin)
  [ -n "$bin" ] || { echo "bench: no herald binary (set HERALD_BIN or build target/release/herald)" >&2; return 1; }
  local vips=$1; shift
  bg_start herald ip netns exec "$NODE" "$bin" agent --kubernetes=false --bgp --localAS "$NODE_AS" --bgpRouterID 192.0.2.2 \
    "$@" --vips-file "$vips" --interface vip0 $(herald_address_flags) >"$WORK/herald.log" 2>&1
  HERALD_PID=$(bg_pid herald)
}
herald_single_peer_flags() {
  echo --peerAddress 169.254.255.1 --peerAS "$PEER_AS" --peerPassFile "$WORK/md5" --multihop --sourceIP 192.0.2.2
}
herald_up() { alive "$HERALD_PID"; }
# wait until protocol $1 is Established while Herald keeps running
herald_established() {
  herald_up || { echo "bench: herald exited; its log:" >&2; tail -n 20 "$WORK/herald.log" >&2; exit 1; }
  established "$1"
}
# SIGTERM (a clean withdraw), SIGKILL if it does not exit within WAIT_S
stop_herald() {
  HERALD_PID=${HERALD_PID:-$(bg_pid herald)}
  [ -n "${HERALD_PID:-}" ] || return 0
  kill -TERM "$HERALD_PID" 2>/dev/null || true
  wait_for "Herald exit" bash -c "! kill -0 $HERALD_PID 2>/dev/null" || true
  bg_stop herald
  HERALD_PID=
}
