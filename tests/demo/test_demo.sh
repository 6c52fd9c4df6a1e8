#!/usr/bin/env bash
# The README's main-job command, run for real: tools/demo.sh brings up the
# sandbox, a Kafka broker and tidewatch run, the master is killed, and the
# subscriber's output must show the topology discovered, the DeadMaster
# analysis opened and the failover (promotion, recovery succeeded);
# everything is torn down afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp) err=$(mktemp)
export TIDEWATCH_DEMO_DIR=$(mktemp -d /tmp/tidewatch-demo-test-XXXXXX)
export TIDEWATCH_DEMO_BASE_PORT=25700 TIDEWATCH_DEMO_KAFKA_PORT=29830 TIDEWATCH_DEMO_API=127.0.0.1:25799
trap 'rm -f "$out" "$err"; rm -rf "$TIDEWATCH_DEMO_DIR"' EXIT
if ! bash "$root/tools/demo.sh" --seconds 40 --kill-master-after 20 >"$out" 2>"$err"; then
  tail -n 30 "$err"; echo "demo.sh failed" >&2; exit 1
fi
fail=0
for want in '"kind":"DISCOVERED"' '"state":"STREAMING"' '"phase":"OPENED","code":"DeadMaster"' \
    '"step":"promote","outcome":"SUCCEEDED"' '"step":"recovery","outcome":"SUCCEEDED"'; do
  if ! grep -q "$want" "$out"; then echo "demo output lacks $want" >&2; fail=1; fi
done
discovered=$(grep -c '"kind":"DISCOVERED"' "$out" || true)
if [ "$discovered" -ne 4 ]; then echo "demo discovered $discovered servers, not 4" >&2; fail=1; fi
if pgrep -f -- "$TIDEWATCH_DEMO_DIR" >/dev/null; then
  echo "demo left processes behind:" >&2; pgrep -af -- "$TIDEWATCH_DEMO_DIR" >&2; fail=1
fi
if [ "$fail" -ne 0 ]; then tail -n 30 "$err"; head -c 4000 "$out"; exit 1; fi
echo "demo: 4 servers discovered, DeadMaster opened after kill -9 and recovered, torn down"
