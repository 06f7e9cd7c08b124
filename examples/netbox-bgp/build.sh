#!/usr/bin/env bash
# Builds the netbox-bgp provider component: componentize-py against the repo's WIT, then the
# `herald:provider-metadata` custom section (JSON from netbox_bgp.metadata_json()).
#
#   ./build.sh [OUTPUT.wasm]      (default: netbox-bgp.wasm next to this script)
#
# Needs componentize-py 0.25.1: pip install componentize-py==0.25.1
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "${1:-$here/netbox-bgp.wasm}")"

if ! command -v componentize-py >/dev/null 2>&1; then
  echo "build.sh: componentize-py not found: pip install componentize-py==0.25.1" >&2
  exit 127
fi

cd "$here"
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"

# World `provider` of herald:provider@0.2.0; `app` is app.py (class PeerDiscovery).
# componentize-py bundles the Python files of the app's directory: build from a copy of the three
# sources so that tests/ does not end up in the component.
stage="$(mktemp -d)"
trap 'rm -f "$tmp"; rm -rf "$stage"' EXIT
cp app.py netbox_bgp.py wasi_http.py "$stage/"
(cd "$stage" && componentize-py -d "$here/../../wit/0.2.0" -w provider componentize app -o "$tmp")

# Append the metadata as a custom section (id 0: LEB128 size, LEB128 name length, name, data).
# The host scans every level of the component for it; a custom section may come last.
python3 -B - "$tmp" <<'EOF'
import sys

sys.path.insert(0, ".")
import netbox_bgp


def leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


name = b"herald:provider-metadata"
data = netbox_bgp.metadata_json().encode()
payload = leb128(len(name)) + name + data
with open(sys.argv[1], "ab") as wasm:
    wasm.write(b"\x00" + leb128(len(payload)) + payload)
EOF

mv "$tmp" "$out"
echo "built $out ($(stat -c %s "$out") bytes)"
