#!/usr/bin/env bash
# Peak RSS of `herald provider run` on the Equinix annotations fixture, cold (compile) and warm
# (compiled component from the cache). Usage: bench/provider-rss.sh [path/to/herald]
set -euo pipefail
cd "$(dirname "$0")/.."
herald="${1:-${CARGO_TARGET_DIR:-target}/release/herald}"
node=host/herald/tests/fixtures/node-annotations-v3.3.yaml
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT

peak_rss_kib() {
  # Linux: the kernel's high-water mark of the child, via /usr/bin/time when present, else python.
  if [ -x /usr/bin/time ]; then
    HERALD_CACHE_DIR="$cache" /usr/bin/time -f '%M' "$herald" provider run equinix-annotations \
      --node "$node" --output json 2>&1 >/dev/null | tail -1
  else
    HERALD_CACHE_DIR="$cache" python3 - "$herald" "$node" <<'PY'
import resource, subprocess, sys
subprocess.run([sys.argv[1], "provider", "run", "equinix-annotations", "--node", sys.argv[2], "--output", "json"],
               check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
  fi
}

echo "binary: $herald ($(stat -c %s "$herald") bytes)"
echo "peak RSS, first run (compiles):  $(peak_rss_kib) KiB"
echo "peak RSS, second run (cached):   $(peak_rss_kib) KiB"
