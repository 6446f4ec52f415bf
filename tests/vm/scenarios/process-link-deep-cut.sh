# boots: lsm
# kernels: 5.10
# process-link-deep-cut: a program under a process deny rule that the walk cannot place
# (pushed more than 64 directories below its rule) gets no new name, not even one MORE
# than 64 directories deep OUTSIDE the rule. Found by attack5 on 5.10, 6.1 and 6.12:
# the guard (bpf/process.bpf.c guard()) let such a name through as "refused the same
# way" (SG_RULE_UNRESOLVED): ln, mv, renameat2(RENAME_EXCHANGE) and io_uring LINKAT were
# allowed, then a rename of a directory of that outside chain (no rule near it) brought
# the new name within reach of the walk and the program ran with no record. As root
# with process rules only ([file] off; the file module refuses any link or rename of an
# unresolved source where deny rules exist).
# Steps: D=/tmp/sg-pldc; process deny "$D/denied"; $D/denied/c1/../c60 and
# $D/denied/a/b1/../b6/tool; mv $D/denied/a into c60 (allowed: still inside);
# mkdir -p $D/out/e1/../e70; ln TOOL $D/out/e1/../e70/t (allowed);
# mv $D/out/e1/../e30 $D/cut (allowed); exec $D/cut/e31/../e70/t: runs.
# This scenario passes when every variant is refused (EPERM and a BLOCKED record).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

A=/usr/bin/sg-attacktool
D=/tmp/sg-pldc
rm -rf "$D"
trap 'rm -rf "$D"' EXIT
P=$D/denied
PDEEP=$P
i=1
while [ "$i" -le 60 ]; do
    PDEEP=$PDEEP/c$i
    i=$((i + 1))
done
mkdir -p "$PDEEP" "$P/a/b1/b2/b3/b4/b5/b6" || fail "mkdir $PDEEP"
for t in tool1 tool2 tool3 tool4; do
    copy_busybox "$P/a/b1/b2/b3/b4/b5/b6/$t"
done

cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
enable = false
[process]
mode = "block"
deny = ["$P"]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
WAIT_SECS=8
BAD=""
# attack NAME SCRIPT: SCRIPT must be refused (expect_refused); io_uring ops absent from
# the kernel (EINVAL) skip.
attack() {
    say "$1"
    mark_records
    run_cmd /bin/sh -c "$2"
    case $OUT in
        *"Invalid argument"*) say "io_uring op absent on this kernel: skipped" ;;
        *) expect_refused "$1" ;;
    esac
}
mv "$P/a" "$PDEEP/a" || fail "mv $P/a into the chain was refused"
T=$PDEEP/a/b1/b2/b3/b4/b5/b6
attack "the deep program in place (control)" "exec -a echo $T/tool1 RAN"
deep_chain "$D/pl"
attack "ln of the deep program to a name 70 directories deep outside, the chain cut, run" \
    "ln $T/tool1 $CUT/$TAIL/t && mv $CUT $D/cut-pl && exec -a echo $D/cut-pl/$TAIL/t RAN"
deep_chain "$D/pm"
attack "mv of the deep program to a name 70 directories deep outside, the chain cut, run" \
    "mv $T/tool2 $CUT/$TAIL/t && mv $CUT $D/cut-pm && exec -a echo $D/cut-pm/$TAIL/t RAN"
deep_chain "$D/px"
copy_busybox "$CUT/$TAIL/t"
attack "renameat2(RENAME_EXCHANGE) of the deep program with a file 70 directories deep outside, the chain cut, run" \
    "$A exchange $T/tool3 $CUT/$TAIL/t && mv $CUT $D/cut-px && exec -a echo $D/cut-px/$TAIL/t RAN"
deep_chain "$D/pu"
attack "io_uring LINKAT of the deep program to a name 70 directories deep outside, the chain cut, run" \
    "$A urlink $T/tool4 $CUT/$TAIL/t && mv $CUT $D/cut-pu && exec -a echo $D/cut-pu/$TAIL/t RAN"
stop_agent
[ -z "$BAD" ] || fail "a denied program got a name outside its rule and ran:$BAD"
