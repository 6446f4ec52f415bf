# shellcheck shell=sh
# safeguard %posttrans: the last step of an upgrade, after the old package's scriptlets;
# starts again the agent that %pre stopped.
if [ -e /run/safeguard.upgrade-restart ]; then
    rm -f /run/safeguard.upgrade-restart
    if [ -d /run/systemd/system ]; then
        systemctl start safeguard.service >/dev/null 2>&1 || :
    fi
fi
