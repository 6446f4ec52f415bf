#!/usr/bin/env bash
# Makes the clean Debian root of the package tests once: a minbase debootstrap of
# bookworm with procps (the .deb's one dependency) and systemd (its units let
# systemd-analyze verify ours against the installed files), as a tarball. tests/pkg/run.sh
# installs the packages into copies of it; tests/vagrant/box.sh makes the Vagrant box of it.
# Usage: root.sh ROOT_TAR. Does nothing when ROOT_TAR exists. SG_PKG_MIRROR overrides the
# mirror this machine's apt uses for the suite.
set -uo pipefail
ROOT_TAR=${1:?usage: root.sh ROOT_TAR}
SUITE=bookworm
[ -s "$ROOT_TAR" ] && exit 0

mirror() {
    [ -n "${SG_PKG_MIRROR:-}" ] && { echo "$SG_PKG_MIRROR"; return; }
    awk -v suite="$SUITE" '
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite && uri != "") { print uri; exit } }
        /^deb / && $3 == suite { print $2; exit }
    ' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1
}

command -v debootstrap >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
url=$(mirror)
[ -n "$url" ] || { echo "FAIL pkg root: no $SUITE mirror in /etc/apt (set SG_PKG_MIRROR)"; exit 1; }
echo "pkg: debootstrap $SUITE from $url into $ROOT_TAR (once)"
mkdir -p "$(dirname "$ROOT_TAR")"
build=$(mktemp -d "$(dirname "$ROOT_TAR")/root.XXXXXX")
t0=$(date +%s)
if ! debootstrap --variant=minbase --include=procps,systemd "$SUITE" "$build" "$url" >"$build.log" 2>&1; then
    echo "FAIL pkg root: debootstrap failed; last lines of $build.log:"
    tail -n 20 "$build.log" | sed 's/^/    /'
    rm -rf "$build"
    exit 1
fi
rm -rf "$build"/var/cache/apt/archives/*.deb "$build"/var/lib/apt/lists/*_dists_*
chmod 0755 "$build" # the tarball's "." becomes /
tar -C "$build" -czf "$ROOT_TAR.tmp" . && mv "$ROOT_TAR.tmp" "$ROOT_TAR"
rm -rf "$build" "$build.log"
echo "pkg: debootstrap took $(($(date +%s) - t0)) s"
