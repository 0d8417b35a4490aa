#!/bin/sh
# Builds jvmm's minimal guest kernel: tinyconfig + the fragment, from Debian's linux-source-6.1.
# usage: build-kernel.sh SOURCE_TARBALL FRAGMENT OUT_DIR ARCH
# Writes OUT_DIR/vmlinux, OUT_DIR/bzImage (x86_64) or OUT_DIR/Image (arm64), OUT_DIR/config.
set -eu
src=$1 fragment=$2 out=$3 arch=$4
work="$out.work"
rm -rf "$work"; mkdir -p "$work"
echo "[kernel] unpacking $src"
tar -xf "$src" -C "$work" --strip-components=1
cd "$work"
case "$arch" in
  x86_64) karch=x86_64; image=arch/x86/boot/bzImage; target=bzImage ;;
  *) echo "unsupported arch $arch" >&2; exit 2 ;;
esac
echo "[kernel] configuring (tinyconfig + $(basename "$fragment"))"
make -s ARCH=$karch tinyconfig
./scripts/kconfig/merge_config.sh -m .config "$fragment" >/dev/null
make -s ARCH=$karch olddefconfig
jobs=$(nproc)
echo "[kernel] compiling with -j$jobs (about 10 minutes on 2 cores)"
make -s ARCH=$karch -j"$jobs" vmlinux $target
mkdir -p "$out"
cp vmlinux "$out/vmlinux"
cp "$image" "$out/$target"
cp .config "$out/config"
cd /
rm -rf "$work"
echo "[kernel] done: $out"
