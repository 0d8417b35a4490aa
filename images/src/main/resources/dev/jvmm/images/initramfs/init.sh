#!/bin/sh
# jvmm's default guest init: mount the usual file systems, tell jvmm the guest is ready
# (the boot-timer byte on the platform page the command line names), and give a shell on the
# console. Leaving the shell powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
@PLATFORM@
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
hostname jvmm
jvmm_ready
echo "jvmm guest: Linux $(uname -r), $(nproc) CPU(s), up $(cut -d' ' -f1 /proc/uptime) s. 'poweroff -f' or Ctrl-A x to leave."
setsid cttyhack sh -l
poweroff -f
