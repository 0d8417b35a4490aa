#!/bin/sh
# jvmm container OS init (@LAYOUT@ layout, version @VERSION@). The root file system is read-only
# (dm-verity); writable state lives on @DATA_LABEL@ at @DATA_MOUNT@, /etc is a tmpfs overlay.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
@PLATFORM@
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts 2>/dev/null; mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/etc/upper /run/etc/work
mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/etc/upper,workdir=/run/etc/work /etc
if mount -t ext4 LABEL=@DATA_LABEL@ @DATA_MOUNT@ 2>/dev/null; then
  echo "jvmm-os: @DATA_MOUNT@ on @DATA_LABEL@ (writable)"
  date > @DATA_MOUNT@/last-boot 2>/dev/null
else
  echo "jvmm-os: @DATA_LABEL@ not found; @DATA_MOUNT@ is not persistent"
  mount -t tmpfs tmpfs @DATA_MOUNT@
fi
hostname jvmm-os
/usr/bin/jvmm-agent &
# One container: its own mount, PID, UTS and network namespaces, with its root from the image.
# (The container mounts its own /proc: busybox's --mount-proc needs the target to be a mount point.)
unshare --mount --pid --uts --net --fork chroot /containers/hello /bin/sh -c \
  'mount -t proc proc /proc; hostname hello; echo "container: $(hostname), pid $$, sees pids $(echo $(ls /proc | grep "^[0-9]"))"'
. /etc/os-release
echo "jvmm-os: $PRETTY_NAME ready (slot $(sed -n 's/.*jvmm.slot=\([AB]\).*/\1/p' /proc/cmdline))"
jvmm_ready
# Healthy: mark it for the agent's status, and tell the host (jvmm marks the slot successful).
: > /run/jvmm-ready
/usr/bin/jvmm-agent notify-ready
case " $(cat /proc/cmdline) " in
  *" jvmm.exit_when_ready=1 "*) jvmm_exit 0 ;;
esac
# With jvmm boot --exec the host drives the guest through the agent: no shell on the console.
case " $(cat /proc/cmdline) " in
  *" jvmm.shell=0 "*) while :; do sleep 3600; done ;;
esac
setsid cttyhack sh -l
poweroff -f
