#!/bin/sh
# Cross-builds jvmm's minimal arm64 guest kernel: tinyconfig + the fragment, from Debian's
# linux-source-6.1, with Debian's gcc-aarch64-linux-gnu. A script of its own rather than a case in
# build-kernel.sh: the x86 kernel's cache key hashes that script, and must not change with arm64.
# usage: build-kernel-aarch64.sh SOURCE_TARBALL FRAGMENT OUT_DIR
# Writes OUT_DIR/vmlinux, OUT_DIR/Image, OUT_DIR/Image.gz (the same kernel, gzip-compressed, as
# distributions ship it) and OUT_DIR/config.
set -eu
src=$1 fragment=$2 out=$3
work="$out.work"
make_args="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
rm -rf "$work"; mkdir -p "$work"
echo "[kernel] unpacking $src"
tar -xf "$src" -C "$work" --strip-components=1
cd "$work"
echo "[kernel] configuring (arm64 tinyconfig + $(basename "$fragment"))"
make -s $make_args tinyconfig
./scripts/kconfig/merge_config.sh -m .config "$fragment" >/dev/null
make -s $make_args olddefconfig
jobs=$(nproc)
echo "[kernel] cross-compiling with -j$jobs (about 15 minutes on 2 cores)"
make -s $make_args -j"$jobs" vmlinux Image Image.gz
mkdir -p "$out"
cp vmlinux "$out/vmlinux"
cp arch/arm64/boot/Image "$out/Image"
cp arch/arm64/boot/Image.gz "$out/Image.gz"
cp .config "$out/config"
cd /
rm -rf "$work"
echo "[kernel] done: $out"
