#!/usr/bin/env bash
# Builds jvmm's JNI library for x86_64 and, where Debian's cross compiler is installed, aarch64,
# into OUT/linux-<arch>/libjvmmsys.so (resources of the vmm jar). Called by Maven (vmm/pom.xml).
set -euo pipefail
src="$(dirname "$0")/jvmm_sys.c"
out="$1"
java_home="$2"
inc=(-I"$java_home/include" -I"$java_home/include/linux")
flags=(-O2 -Wall -Wextra -Werror -shared -fPIC -fvisibility=default -Wl,-z,noexecstack)
build() {
  mkdir -p "$out/linux-$2"
  "$1" "${flags[@]}" "${inc[@]}" -o "$out/linux-$2/libjvmmsys.so" "$src"
}
case "$(uname -m)" in
  x86_64) build gcc x86_64; command -v aarch64-linux-gnu-gcc >/dev/null && build aarch64-linux-gnu-gcc aarch64 ;;
  aarch64) build gcc aarch64; command -v x86_64-linux-gnu-gcc >/dev/null && build x86_64-linux-gnu-gcc x86_64 ;;
  *) echo "jvmm builds its native library for x86_64 and aarch64 only, not $(uname -m)" >&2; exit 1 ;;
esac
exit 0
