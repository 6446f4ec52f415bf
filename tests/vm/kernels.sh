#!/bin/sh
# Fetches and caches the Debian cloud kernels the VM test bed boots:
#   $SG_VM_CACHE/kernels/<name>/vmlinuz   (and .../package: the package it came from)
#   $SG_VM_CACHE/kernels/<name>/modules/<release>/overlay.ko   (overlayfs, a module in
#   Debian's cloud kernels: initramfs.sh puts it in the guest's /lib/modules)
# for <name> in 5.10 (bullseye), 6.1 (bookworm), 6.12 (bookworm-security, else trixie),
# and their arm64 builds arm64-5.10, arm64-6.1, arm64-6.12 (the same releases; there
# vmlinuz is a gzip-compressed arm64 Image, which qemu-system-aarch64 -kernel takes).
# Usage: tests/vm/kernels.sh [NAME...]     (default: the three amd64 kernels)
#
# Each release gets a private apt state under the cache (its own sources.list, lists and
# package cache), so the system's apt lists are never touched and the result does not
# depend on which Debian release the host runs. The ABI number is never written down: the
# meta package is resolved with `apt-cache depends` at fetch time. Idempotent: a cached
# kernel is kept as it is; delete its folder to fetch the current one. A kernel cached
# before its modules were gets them from its own package version (or, where that is gone
# from the archive, the current kernel replaces it).
set -eu

CACHE=${SG_VM_CACHE:-/var/cache/safeguard-vm}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

log() { printf 'kernels: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

ensure_packages() {
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    log "installing:$missing"
    # shellcheck disable=SC2086 # word splitting of the list is wanted
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2 ||
        { apt-get update -qq >&2 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2; }
}

# The mirrors in use on this machine (deb822 or one-line sources), with Debian's defaults.
mirror_of() { # $1: "debian" or "debian-security"
    url=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
              /etc/apt/sources.list 2>/dev/null |
          grep -v '^[[:space:]]*#' | grep -Eo "(https?|file)://[^ ]*/$1/?( |\$)" | sed 's:/* *$::' | head -n 1 || true)
    if [ -n "$url" ]; then echo "$url"
    elif [ "$1" = debian ]; then echo http://deb.debian.org/debian
    else echo http://deb.debian.org/debian-security
    fi
}

# The Debian architecture of the kernel being fetched (set by fetch) and the private apt
# state of a release for it: amd64 keeps the folder it always had.
ARCH=amd64
apt_dir() { if [ "$ARCH" = amd64 ]; then echo "$CACHE/apt/$1"; else echo "$CACHE/apt/$1-$ARCH"; fi; }

# apt with the private state of one release: apt_for RELEASE apt-get|apt-cache ARGS...
apt_for() {
    rel=$1; shift
    dir=$(apt_dir "$rel")
    cmd=$1; shift
    "$cmd" -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
        -o Dir::Cache::Archives="$dir/cache/archives" \
        -o APT::Architecture="$ARCH" -o APT::Architectures="$ARCH" -o Acquire::Languages=none \
        -o APT::Sandbox::User=root "$@"
}

# Writes the private sources of RELEASE and refreshes its lists, once per run: only a
# kernel missing from the cache gets here, and then the lists must be current.
# RELEASE "SUITE-point" is SUITE without its security archive: the last point release
# (the mirror here has no arm64 packages in bullseye-security).
UPDATED=" "
prepare_release() {
    rel=$1
    dir=$(apt_dir "$rel")
    case $UPDATED in *" $rel-$ARCH "*) return 0 ;; esac
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    main=$(mirror_of debian)
    sec=$(mirror_of debian-security)
    suite=${rel%-point}
    {
        echo "deb [signed-by=$KEYRING] $main $suite main"
        echo "deb [signed-by=$KEYRING] $main $suite-updates main"
        [ "$suite" != "$rel" ] || echo "deb [signed-by=$KEYRING] $sec $suite-security main"
    } > "$dir/sources.list"
    log "apt-get update for $rel ($main)"
    apt_for "$rel" apt-get update -qq >&2 || die "apt-get update for $rel failed"
    UPDATED="$UPDATED$rel-$ARCH "
}

# Prints the versioned image package a meta package of RELEASE depends on, or nothing.
resolve_meta() { # RELEASE META
    apt_for "$1" apt-cache depends "$2" 2>/dev/null |
        awk '/Depends: linux-image-/{print $2; exit}'
}

# fetch NAME ARCH RELEASE META [RELEASE META]...: the first release whose meta resolves
# and downloads wins. NAME is the version (5.10), with "arm64-" before it for arm64.
fetch() {
    name=$1 ARCH=$2; shift 2
    version=${name#arm64-}
    out=$CACHE/kernels/$name
    want=""
    if [ -s "$out/vmlinuz" ]; then
        if [ -d "$out/modules" ]; then
            echo "cached  $name: $(cat "$out/package" 2>/dev/null || echo '?') -> $out/vmlinuz"
            return 0
        fi
        # Cached before the modules were: the same package version again, for them.
        want=$(cat "$out/package" 2>/dev/null || true)
    fi
    deb=""
    releases="$*"
    while [ $# -ge 2 ]; do
        rel=$1 meta=$2; shift 2
        prepare_release "$rel"
        if [ -n "$want" ]; then
            pkg="${want% *}=${want#* }"
        else
            pkg=$(resolve_meta "$rel" "$meta")
        fi
        case $pkg in
            "linux-image-$version".*) ;;
            "") log "$name: $meta not found in $rel"; continue ;;
            *) log "$name: $meta in $rel is $pkg, not $name"; continue ;;
        esac
        work=$(apt_dir "$rel")/download
        rm -rf "$work" && mkdir -p "$work"
        if (cd "$work" && apt_for "$rel" apt-get download -qq "$pkg" >&2); then
            deb=$(ls "$work"/*.deb)
            break
        fi
        log "$name: apt-get download $pkg from $rel failed"
    done
    if [ -z "$deb" ] && [ -n "$want" ]; then
        log "$name: $want is gone from the archive: fetching the current kernel"
        rm -f "$out/vmlinuz"
        # shellcheck disable=SC2086 # one word per release and meta package
        fetch "$name" "$ARCH" $releases
        return
    fi
    [ -n "$deb" ] || die "$name: no release offers a kernel"
    mkdir -p "$out"
    extract_modules "$deb" "$out"
    if [ -z "$want" ]; then
        dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './boot/vmlinuz-*' > "$out/vmlinuz.tmp" ||
            die "$name: no ./boot/vmlinuz-* in $deb"
        [ -s "$out/vmlinuz.tmp" ] || die "$name: empty kernel from $deb"
        mv "$out/vmlinuz.tmp" "$out/vmlinuz"
        dpkg-deb -f "$deb" Package Version | awk '{printf "%s%s", sep, $2; sep=" "} END{print ""}' \
            > "$out/package"
    fi
    rm -rf "$work"
    echo "fetched $name: $(cat "$out/package") -> $out/vmlinuz (modules: $(ls "$out/modules"))"
}

# The kernel modules the scenarios load (overlayfs), uncompressed (busybox insmod reads
# plain ELF), into OUT/modules/<release>/.
extract_modules() { # DEB OUT
    tmp=$2/modules.tmp
    rm -rf "$tmp" && mkdir -p "$tmp"
    dpkg-deb --fsys-tarfile "$1" | tar -x -C "$tmp" --wildcards './lib/modules/*/kernel/fs/overlayfs/overlay.ko*' ||
        die "no overlay.ko in $1"
    for ko in "$tmp"/lib/modules/*/kernel/fs/overlayfs/overlay.ko*; do
        release=${ko#"$tmp"/lib/modules/}
        release=${release%%/*}
        mkdir -p "$tmp/out/$release"
        case $ko in
            *.xz) xz -dc "$ko" > "$tmp/out/$release/overlay.ko" ;;
            *.zst) zstd -dcq "$ko" > "$tmp/out/$release/overlay.ko" ;;
            *) cp "$ko" "$tmp/out/$release/overlay.ko" ;;
        esac || die "decompress $ko"
    done
    rm -rf "$2/modules" && mv "$tmp/out" "$2/modules" && rm -rf "$tmp"
}

ensure_packages apt dpkg tar debian-archive-keyring xz-utils
[ -r "$KEYRING" ] || die "missing $KEYRING"

[ $# -gt 0 ] || set -- 5.10 6.1 6.12
for name in "$@"; do
    case $name in
        5.10) fetch 5.10 amd64 bullseye linux-image-cloud-amd64 ;;
        6.1)  fetch 6.1 amd64 bookworm linux-image-cloud-amd64 ;;
        # bookworm-security carries 6.12 as its own meta package; trixie's default is 6.12.
        6.12) fetch 6.12 amd64 bookworm linux-image-6.12-cloud-amd64 trixie linux-image-cloud-amd64 ;;
        arm64-5.10) fetch arm64-5.10 arm64 bullseye linux-image-cloud-arm64 \
                        bullseye-point linux-image-cloud-arm64 ;;
        arm64-6.1)  fetch arm64-6.1 arm64 bookworm linux-image-cloud-arm64 ;;
        arm64-6.12) fetch arm64-6.12 arm64 bookworm linux-image-6.12-cloud-arm64 \
                        trixie linux-image-cloud-arm64 ;;
        *) die "unknown kernel '$name' (known: 5.10 6.1 6.12 arm64-5.10 arm64-6.1 arm64-6.12)" ;;
    esac
done
