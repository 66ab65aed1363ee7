#!/usr/bin/env bash
# Runs HubSpot's official Python client against a freshly started `spokes sim`.
# Installs the client (pinned) into a virtualenv under target/ on first use.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../../.." && pwd)"
cd "$root"

venv="$root/target/py-hubspot-client"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check "hubspot-api-client==12.0.0"

cargo build -q -p spokes
coproc SIM { exec "$root/target/debug/spokes" sim --listen 127.0.0.1:0; }
trap 'kill "$SIM_PID" 2>/dev/null || true' EXIT
# The first line names the address once the listener is bound: no sleeping.
read -r first <&"${SIM[0]}"
url="${first##* }"
case "$url" in http://*) ;; *) echo "unexpected first line from spokes sim: $first" >&2; exit 1 ;; esac
# Keep draining its output so it never blocks on a full pipe (through a copy of the
# descriptor: bash does not pass coproc descriptors on to background jobs).
exec 3<&"${SIM[0]}"
cat <&3 >/dev/null &

SIM_URL="$url" "$venv/bin/python" "$root/crates/hubspot-sim/tests/python/official_client.py"
