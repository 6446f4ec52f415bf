# shellcheck shell=sh
# safeguard %postun ($1: 0 erase, 1 upgrade): an upgrade restarts an agent that was
# running, so the new binary enforces. Logs in /var/log/safeguard stay after erase.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 1 ]; then
        systemctl try-restart safeguard.service >/dev/null 2>&1 || :
    fi
fi
