# boots: lsm
# kernels: 6.12
# network-reroute: sends whose packets go to another address than the one their
# connect or sendmsg names are judged by where they really go. AF_PACKET frames
# (SOCK_DGRAM and SOCK_RAW with an Ethernet header) carrying an IP packet to a
# denied address; an IPv4 loose source route whose first hop is denied (IP_OPTIONS on
# a UDP or TCP socket, IP_RETOPTS as a control message); an IPv6 routing header
# (IPV6_RTHDR control message) whose first segment is denied. Each is refused with
# EPERM and a BLOCKED record naming the denied address; the same sends to an allowed
# address pass. Also sendmmsg(2) to a denied address. (A sniffer on lo showed each of
# these packets reaching the denied address before the fix.)
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

AT=/usr/bin/sg-attacktool
net_setup
net_config /tmp/sg.toml block "cidr = { deny = [\"$NET_A/32\", \"$NET_A6/128\"] }"
start_agent /tmp/sg.toml

# refused WHAT DST CMD...: CMD fails with EPERM and a new BLOCKED sendmsg/connect record
# from its pid names DST; each miss is a problem.
refused() {
    what=$1 dst=$2
    shift 2
    mark_records
    run_sh "exec $*"
    case $OUT in
        *"Operation not permitted"*) say "refused: $what" ;;
        *) problem "$what: no EPERM (status $RC): $OUT" ;;
    esac
    if find_new_record '"module":"network"' '"action":"BLOCKED"' "\"pid\":$SH_PID" \
        "\"dst_addr\":\"$dst\""; then
        echo "$REC"
    else
        problem "$what: no BLOCKED record with dst_addr $dst"
    fi
}
# passes WHAT CMD...: CMD succeeds.
passes() {
    what=$1
    shift
    run_sh "exec $*"
    case $OUT in *"
ok"*) say "ok: $what" ;; *) problem "$what: expected success (status $RC): $OUT" ;; esac
}

refused "AF_PACKET SOCK_DGRAM" "$NET_A" $AT packet dgram 10.254.248.7 "$NET_A" 9101
rec_has '"op":"sendmsg"' '"protocol":"raw"' "\"rule\":\"cidr.deny $NET_A/32\""
refused "AF_PACKET SOCK_RAW" "$NET_A" $AT packet raw 10.254.248.7 "$NET_A" 9101
passes "AF_PACKET SOCK_DGRAM, allowed" $AT packet dgram 10.254.248.7 "$NET_B" 9101
passes "AF_PACKET SOCK_RAW, allowed" $AT packet raw 10.254.248.7 "$NET_B" 9101

refused "UDP, IP_OPTIONS source route" "$NET_A" $AT srr opt "$NET_A" "$NET_B" 9200
refused "UDP, IP_RETOPTS source route" "$NET_A" $AT srr cmsg "$NET_A" "$NET_B" 9200
refused "TCP, IP_OPTIONS source route" "$NET_A" $AT srr tcp "$NET_A" "$NET_B" 9201
rec_has '"op":"connect"'
passes "UDP, IP_OPTIONS source route, allowed" $AT srr opt "$NET_B" "$NET_B" 9200
passes "UDP, IP_RETOPTS source route, allowed" $AT srr cmsg "$NET_B" "$NET_B" 9200
refused "UDP6, IPV6_RTHDR" "$NET_A6" $AT rthdr "$NET_A6" "$NET_B6" 9202
passes "UDP6, IPV6_RTHDR, allowed" $AT rthdr "$NET_B6" "$NET_B6" 9202

refused "sendmmsg" "$NET_A" $AT sendmmsg "$NET_A" 9100
stop_agent
end_problems "network-reroute"
