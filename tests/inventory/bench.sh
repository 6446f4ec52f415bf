#!/usr/bin/env bash
# `make bench`: how long `safeguard inventory` and `safeguard risk` take on this host
# (docs/inventory.md, "Speed"). Three runs each; prints wall and CPU seconds and how many
# entries the set-id walk looked at. Usage: tests/inventory/bench.sh BIN
set -euo pipefail
BIN=${1:?usage: bench.sh BIN}
TIMEFORMAT='%R s wall, %U s user, %S s system'
entries=$("$BIN" inventory --json | python3 -c 'import json, sys; w = json.load(sys.stdin)["walk"]; print(w["entries"], "entries walked, truncated:", w["truncated"])')
echo "inventory: $entries"
for cmd in inventory risk; do
    for _ in 1 2 3; do
        echo -n "$cmd --json: "
        { time "$BIN" "$cmd" --json >/dev/null; } 2>&1
    done
done
