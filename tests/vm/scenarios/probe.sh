# boots: lsm
# probe: where BPF LSM is active, `safeguard probe` exits 0 and reports full enforcement.
# Contract for the agent:
#   text:   one line that contains "BPF LSM" and "active" (and not "not active"), and the
#           word "full" somewhere (the effective state);
#   --json: one JSON object on one line, compact like the log records, with at least
#           "bpf_lsm":true and "effective":"full" (false / "degraded" without BPF LSM).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

run_cmd timeout 60 "$SG" probe
[ "$RC" = 0 ] || fail "probe exited $RC: $OUT"
echo "$OUT"
line=$(echo "$OUT" | grep 'BPF LSM' | head -n 1)
case $line in
    *"not active"* | "") fail "probe has no line saying BPF LSM is active" ;;
    *active*) ;;
    *) fail "probe's BPF LSM line does not say active: $line" ;;
esac
case $OUT in *full*) ;; *) fail "probe does not report full enforcement" ;; esac

run_cmd timeout 60 "$SG" probe --json
[ "$RC" = 0 ] || fail "probe --json exited $RC: $OUT"
echo "$OUT"
[ "$(echo "$OUT" | wc -l)" = 1 ] || fail "probe --json printed more than one line"
case $OUT in "{"*"}") ;; *) fail "probe --json is not one JSON object" ;; esac
REC=$OUT
rec_has '"bpf_lsm":true' '"effective":"full"'
