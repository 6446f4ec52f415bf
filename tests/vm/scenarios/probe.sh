# boots: lsm
# probe: where BPF LSM is active, `safeguard probe` exits 0 and reports full enforcement.
# Contract for the agent (probe's text lines are "key:<spaces>value"):
#   text:   a line "BPF LSM active: yes" and a line "effective: full";
#   --json: one JSON object on one line, compact like the log records, with at least
#           "bpf_lsm":true and "effective":"full" (false / "degraded" without BPF LSM).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

run_cmd timeout 60 "$SG" probe
[ "$RC" = 0 ] || fail "probe exited $RC: $OUT"
echo "$OUT"
echo "$OUT" | grep -q '^BPF LSM active:[[:space:]]*yes$' || fail "probe: no line 'BPF LSM active: yes'"
echo "$OUT" | grep -q '^effective:[[:space:]]*full$' || fail "probe: no line 'effective: full'"
# bpf_loop came with 5.17: the objects whose path walks are callbacks load from there on.
case $(uname -r) in
    5.10.*) want=no ;;
    *) want=yes ;;
esac
echo "$OUT" | grep -q "^bpf_loop:[[:space:]]*$want " || fail "probe: no line 'bpf_loop: $want' on $(uname -r)"

run_cmd timeout 60 "$SG" probe --json
[ "$RC" = 0 ] || fail "probe --json exited $RC: $OUT"
echo "$OUT"
[ "$(echo "$OUT" | wc -l)" = 1 ] || fail "probe --json printed more than one line"
case $OUT in "{"*"}") ;; *) fail "probe --json is not one JSON object" ;; esac
REC=$OUT
rec_has '"bpf_lsm":true' '"effective":"full"'
