# shellcheck shell=sh
# safeguard %pre ($1: 1 install, 2 upgrade). rpm installs the new files before the old
# package's %preun runs, so an upgrade stops the agent here: with [agent] protect the
# running agent refuses the replacement of its own binary. With [agent] persist the
# pinned policy keeps enforcing meanwhile; %posttrans starts the new binary, which
# adopts the pins. The marker tells %posttrans that the agent ran.
if [ "$1" -ge 2 ] && [ -d /run/systemd/system ] && systemctl is-active --quiet safeguard.service; then
    : >/run/safeguard.upgrade-restart
    systemctl stop safeguard.service >/dev/null 2>&1 || :
fi
