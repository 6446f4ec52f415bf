# boots: lsm
# kernels: 6.12
# network-uring: io_uring reaches sockets without the system calls: IORING_OP_CONNECT,
# IORING_OP_SENDMSG and (6.0+) IORING_OP_SOCKET, each inline in the submitting task and,
# with IOSQE_ASYNC, in an io-wq worker (a thread of the submitter named iou-wrk-PID).
# A denied address is refused with EPERM and a BLOCKED record naming the submitter's
# process in every form; a command denied by executable is refused through the worker
# too (the worker shares the submitter's memory, hence its executable); an allowed
# address goes through.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

T=/usr/bin/sg-filetool
net_setup
mkdir -p /opt/bin
cp "$T" /opt/bin/nonet
net_config /tmp/sg.toml block "cidr = { deny = [\"$NET_A/32\"] }" 'command = { deny = ["/opt/bin/nonet"] }'
start_agent /tmp/sg.toml
# after the start: a socket older than the agent has no known owner, and with a command
# deny list its accepts are refused (README, Network rules)
net_serve "$NET_B:8080"

# uring_eperm OP TOOL VERB ADDR PORT: the verb fails with EPERM; a BLOCKED OP record
# from the submitting process names ADDR.
uring_eperm() {
    op=$1 tool=$2 verb=$3
    run_sh "exec $tool $verb $4 $5"
    case $OUT in *"error: "*"Operation not permitted"*) ;; *) fail "$tool $verb $4 $5: want EPERM: $OUT" ;; esac
    wait_for_record '"module":"network"' "\"op\":\"$op\"" '"action":"BLOCKED"' "\"pid\":$SH_PID"
    rec_has "\"dst_addr\":\"$4\"" "\"dst_port\":$5"
    say "refused: $tool $verb $4 $5"
}

verbs="urconnect uraconnect ursocket-connect urasocket-connect"
case $(uname -r) in 5.10.*) verbs="urconnect uraconnect" ;; esac # IORING_OP_SOCKET: 5.19
for verb in $verbs; do
    uring_eperm connect "$T" "$verb" "$NET_A" 8080
    rec_has "\"rule\":\"cidr.deny $NET_A/32\""
    run_cmd "$T" "$verb" "$NET_B" 8080
    [ "$OUT" = ok ] || fail "$verb to an allowed address: $OUT"
    uring_eperm connect /opt/bin/nonet "$verb" "$NET_B" 8080
    rec_has '"rule":"command.deny /opt/bin/nonet"'
done
for verb in ursendto urasendto; do
    uring_eperm sendmsg "$T" "$verb" "$NET_A" 9999
    rec_has '"protocol":"udp"'
    run_cmd "$T" "$verb" "$NET_B" 9999
    [ "$OUT" = ok ] || fail "$verb to an allowed address: $OUT"
    uring_eperm sendmsg /opt/bin/nonet "$verb" "$NET_B" 9999
done
stop_agent
