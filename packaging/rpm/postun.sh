# shellcheck shell=sh
# safeguard %postun ($1: 0 erase, 1 upgrade). On upgrade the agent was stopped by the new
# package's %pre and is started by its %posttrans. Logs in /var/log/safeguard stay after
# erase.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
