#!/bin/sh
# jvmm's default guest init: mount the usual file systems, tell jvmm the guest is ready
# (boot-timer byte at 0xc0000000), and give a shell on the console. Leaving the shell powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
hostname jvmm
devmem 0xc0000000 8 123
echo "jvmm guest: Linux $(uname -r), $(nproc) CPU(s), up $(cut -d' ' -f1 /proc/uptime) s. 'poweroff -f' or Ctrl-A x to leave."
setsid cttyhack sh -l
poweroff -f
