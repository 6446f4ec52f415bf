# cli-exit-codes: a bad config exits 2 naming file, line, column and key, and attaches
# nothing; --require-enforcement exits 1 on this kernel (BPF LSM refused); probe
# reports the degraded state; check prints the effective policy.
# shellcheck shell=sh source=../../vm/lib.sh
. "$SG_LIB"

printf '[log]\noutput = "%s/sg.log"\n[process]\nmode = "block"\nbogus = 1\n' "$SG_WORK" >"$SG_WORK/bad.toml"
expect_status 2 "$SG" run -c "$SG_WORK/bad.toml"
case $OUT in *"$SG_WORK/bad.toml:5:1: process.bogus"*) ;; *) fail "no position and key in: $OUT" ;; esac
[ ! -e "$SG_WORK/sg.log" ] || fail "a bad config still wrote a log"
expect_status 2 "$SG" check -c "$SG_WORK/bad.toml"

printf '[log]\noutput = "%s/sg.log"\n[process]\nmode = "block"\ndeny = ["/usr/bin/nc"]\n' "$SG_WORK" >"$SG_WORK/good.toml"
expect_status 0 "$SG" check -c "$SG_WORK/good.toml"
case $OUT in *"/usr/bin/nc"*) ;; *) fail "check does not print the policy: $OUT" ;; esac

expect_status 1 "$SG" run --require-enforcement -c "$SG_WORK/good.toml"
case $OUT in *"lsm"*|*"LSM"*) ;; *) fail "no reason given: $OUT" ;; esac
[ ! -s "$SG_WORK/sg.log" ] || fail "--require-enforcement still wrote records"

expect_status 0 "$SG" probe --json
REC=$OUT
rec_has '"bpf_lsm":false' '"effective":"degraded"' '"btf":true'
