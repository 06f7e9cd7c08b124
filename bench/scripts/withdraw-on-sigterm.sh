#!/bin/bash
# withdraw-on-sigterm [N] [RUNS]: Herald announces N IPv6 /128s to the receiving BIRD; SIGTERM; time until
# the receiver holds none (polled every 10 ms), until BIRD saw the session close (BIRD's clock), and until
# the process exited. A BIRD sender sent SIGTERM the same way is measured for comparison.
source "$(dirname "$0")/../lib.sh"
source "$BENCH_DIR/scripts/herald-leg.sh"
N=${1:-10000}; RUNS=${2:-${RUNS:-3}}
netns_up
python3 "$BENCH_DIR/gen_mrt.py" list 6 "$N" > "$WORK/vips.txt"
printf '%s' "$MD5" > "$WORK/md5"; chmod 600 "$WORK/md5"

# measure_withdraw PID: prints "<ms until 0 routes> <ms until session left Established> <ms until exit>"
measure_withdraw() {
  local pid=$1 t0 t0_tod gone closed exited
  t0=$(now_ns); t0_tod=$(clock_tod_ms)
  kill -TERM "$pid"
  wait_for "receiver to drop all routes" count_is master6 0 || { echo "n/a n/a n/a"; return; }
  gone=$(ms_since "$t0")
  wait_for "session to close" bash -c "! birdc -s '$RECV_SOCK' show protocols herald | grep -q Established" || true
  closed=$(tod_diff "$t0_tod" "$(proto_since_ms herald)")
  wait_for "sender exit" bash -c "! kill -0 $pid 2>/dev/null" && exited=$(ms_since "$t0") || exited=n/a
  wait "$pid" 2>/dev/null || true
  echo "$gone $closed $exited"
}

herald_run() {
  receiver_up
  start_herald "$WORK/vips.txt" $(herald_single_peer_flags) || { echo "n/a n/a n/a"; return; }
  wait_for "Herald session" herald_established herald || { echo "n/a n/a n/a"; return; }
  wait_for "$N routes from Herald" count_at_least master6 "$N" || { echo "n/a n/a n/a"; return; }
  measure_withdraw "$HERALD_PID"; HERALD_PID=
}
bird_run() {
  receiver_up
  sender_bird_conf 6 "$N" > "$WORK/sender.conf"
  ip netns exec "$NODE" bird -f -c "$WORK/sender.conf" -s "$WORK/sender.ctl" -P "$WORK/sender.pid" >"$WORK/sender.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  wait_for "BIRD sender session" established || { echo "n/a n/a n/a"; return; }
  wait_for "$N routes from BIRD" count_at_least master6 "$N" || { echo "n/a n/a n/a"; return; }
  measure_withdraw "$pid"
}

H_GONE=(); H_CLOSED=(); H_EXIT=(); B_GONE=()
for _ in $(seq 1 "$RUNS"); do
  read -r gone closed exited < <(herald_run | tail -n 1)
  echo "  herald run: routes gone ${gone} ms, session closed ${closed} ms, exited ${exited} ms" >&2
  [[ "${gone:-}" =~ ^[0-9]+$ ]] || break
  H_GONE+=("$gone"); H_CLOSED+=("$closed"); H_EXIT+=("$exited")
done
for _ in $(seq 1 "$RUNS"); do
  read -r gone _ _ < <(bird_run | tail -n 1)
  echo "  bird run: routes gone ${gone} ms" >&2
  B_GONE+=("$gone")
done
med() { [ $# -gt 0 ] && printf '%s\n' "$@" | median || echo not-available; }
echo "RESULT withdraw-on-sigterm herald_ms=$(med "${H_GONE[@]}") herald_session_close_ms=$(med "${H_CLOSED[@]}") herald_exit_ms=$(med "${H_EXIT[@]}") bird_ms=$(med "${B_GONE[@]}") n=$N runs=$RUNS herald_addresses=$(herald_addresses_label)"
