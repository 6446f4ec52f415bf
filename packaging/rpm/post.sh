# shellcheck shell=sh
# safeguard %post ($1: 1 install, 2 upgrade). A first install neither enables nor
# starts the agent: an administrator reviews /etc/safeguard/safeguard.toml first.
# The log directory is made here: cargo-generate-rpm 0.21.1 fails on `dir = true`.
[ -d /var/log/safeguard ] || install -d -m 0750 -o root -g root /var/log/safeguard
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
