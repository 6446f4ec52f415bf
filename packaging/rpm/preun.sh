# shellcheck shell=sh
# safeguard %preun ($1: 0 erase, 1 upgrade): erasing stops and disables the agent and
# removes the enforcement it may have left pinned ([agent] persist: `safeguard unload`).
if [ "$1" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
    if [ -d /run/systemd/system ]; then
        systemctl stop safeguard.service >/dev/null 2>&1 || :
    fi
    systemctl disable --quiet safeguard.service >/dev/null 2>&1 || :
fi
if [ "$1" -eq 0 ] && [ -x /usr/sbin/safeguard ]; then
    /usr/sbin/safeguard unload >/dev/null 2>&1 || :
fi
