#!/bin/sh
# Writes the raw BTF blob that a kernel Image (arm64 `Image`, a gzip-compressed one, or an
# ELF vmlinux) carries in its .BTF section, for `bpftool btf dump file OUT format c`.
# Debian's arm64 packages ship /boot/vmlinuz as a plain arm64 Image with no section table,
# so the blob is found by its header: magic 0xeB9F, version 1, flags 0, hdr_len 24,
# type_off 0; its size is hdr_len + str_off + str_len (the strings come last).
# Usage: vmlinux/btf-from-image.sh IMAGE OUT.btf
set -eu
[ $# -eq 2 ] || { echo "usage: $0 IMAGE OUT.btf" >&2; exit 2; }
image=$1 out=$2
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.offsets"' EXIT
if gzip -t "$image" 2>/dev/null; then gzip -dc "$image" >"$tmp"; else cat "$image" >"$tmp"; fi

# u32 LE at byte offset $1
u32() { od -An -tu4 -j "$1" -N 4 "$tmp" | tr -d ' '; }
LC_ALL=C grep -obUaP '\x9f\xeb\x01\x00\x18\x00\x00\x00\x00\x00\x00\x00' "$tmp" | cut -d: -f1 >"$tmp.offsets" || true
while read -r off; do
    type_len=$(u32 $((off + 12)))
    str_off=$(u32 $((off + 16)))
    str_len=$(u32 $((off + 20)))
    # The kernel's own BTF is megabytes; a stray match is not.
    [ "$str_off" = "$type_len" ] && [ "$type_len" -gt 100000 ] || continue
    dd if="$tmp" of="$out" bs=1M iflag=skip_bytes,count_bytes skip="$off" \
        count=$((24 + str_off + str_len)) status=none
    echo "btf-from-image: $((24 + str_off + str_len)) bytes of BTF at offset $off -> $out" >&2
    exit 0
done <"$tmp.offsets"
echo "btf-from-image: no kernel BTF in $image" >&2
exit 1
