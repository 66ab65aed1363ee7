#!/usr/bin/env bash
# Runs the official Python MCP SDK against the agents' endpoint of a freshly started
# `spokes serve --sandbox`. Installs the SDK (pinned) into a virtualenv under target/ on
# first use.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../../.." && pwd)"
cd "$root"

venv="$root/target/py-mcp-sdk"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check "mcp==2.3.0"

cargo build -q -p spokes
data_dir="$(mktemp -d)"
# Its log (RUST_LOG=warn: the refusals below are logged too) is shown only on failure.
log="$data_dir/spokes.log"
coproc SPOKES {
  exec env -u SPOKES_MASTER_KEY RUST_LOG=warn "$root/target/debug/spokes" serve --sandbox \
    --listen 127.0.0.1:0 --sandbox-listen 127.0.0.1:0 --data-dir "$data_dir" 2>"$log"
}
spokes_pid=$SPOKES_PID
cleanup() {
  local status=$?
  kill "$spokes_pid" 2>/dev/null || true
  wait "$spokes_pid" 2>/dev/null || true
  if [ "$status" -ne 0 ] && [ -s "$log" ]; then
    echo "--- spokes log" >&2
    cat "$log" >&2
  fi
  rm -rf "$data_dir"
}
trap cleanup EXIT

# It prints the addresses, then the partner key once everything is ready: no sleeping.
printed=()
key=""
while IFS= read -r line <&"${SPOKES[0]}"; do
  printed+=("$line")
  case "$line" in
    *"Partner API key (shown once): "*)
      key="${line#*Partner API key (shown once): }"
      key="${key%% *}"
      break
      ;;
  esac
done
if [ -z "$key" ]; then
  echo "spokes serve --sandbox stopped before printing the partner key" >&2
  if [ "${#printed[@]}" -gt 0 ]; then printf '  %s\n' "${printed[@]}" >&2; fi
  exit 1
fi
# Keep draining its output so it never blocks on a full pipe (through a copy of the
# descriptor: bash does not pass coproc descriptors on to background jobs).
exec 3<&"${SPOKES[0]}"
cat <&3 >/dev/null &
exec 3<&-

# The first word after a marker, trailing dot removed (as the Rust tests' `word_after`).
word_after() {
  local marker="$1" line rest
  for line in "${printed[@]}"; do
    case "$line" in
      *"$marker"*)
        rest="${line#*"$marker"}"
        rest="${rest%% *}"
        echo "${rest%.}"
        return 0
        ;;
    esac
  done
  echo "no \`$marker\` in what spokes printed:" >&2
  printf '  %s\n' "${printed[@]}" >&2
  return 1
}
base="$(word_after "Spokes is running at ")"
sim="$(word_after "with the HubSpot sandbox at ")"

SPOKES_URL="$base" SIM_URL="$sim" SPOKES_KEY="$key" \
  "$venv/bin/python" "$root/crates/spokes-mcp/tests/python/mcp_client.py"
