package dev.jvmm.lab;

/**
 * L1's init, the script the lab's L1 kernel runs first: loads KVM and the virtio modules, starts
 * the watchdog's heartbeat, runs the inner jvmm on the console (a boot from its machine file,
 * other commands from their arguments) with a host script beside it, and hands the exit status,
 * the metrics and a newly made class-data archive back to the host. Apart from Lab (which packs
 * it and reads what it prints) so that the script can be read, and tested, as one piece.
 */
final class L1Init {
    private L1Init() {}

    static String script(LabArch arch) {
        String java = "/jre/bin/java $(cat /jvmm/jvm-options) $main";
        return """
                #!/bin/busybox sh
                # The lab's L1 init: load KVM, run the inner jvmm on the console, report its status.
                /bin/busybox --install -s /bin
                export PATH=/bin HOME=/root
                mount -t proc proc /proc
                mount -t sysfs sysfs /sys
                mount -t devtmpfs devtmpfs /dev
                mount -t tmpfs tmpfs /tmp
                stty -F /dev/console raw -echo 2>/dev/null
                # L1's heartbeat for the host's watchdog (LabWatchdog): it stops when L1's timer does.
                %s
                for m in %s; do insmod /lab/modules/$m.ko 2>/dev/null; done
                # Disks from the host: /dev/SERIAL names each (the guest's drives, the out disk).
                for b in /sys/block/vd*; do
                  [ -f "$b/serial" ] && ln -sf "/dev/${b##*/}" "/dev/$(cat "$b/serial")"
                done
                if [ ! -c /dev/kvm ]; then
                  echo "JVMM-LAB-ERROR=the lab's L1 kernel has no /dev/kvm (%s)"
                  poweroff -f
                fi
                # How the inner jvmm starts jvmm processes of its own (jvmm bench boot's runs).
                export JVMM_CHILD_JAVA="/jre/bin/java $(cat /jvmm/child-jvm-options)"
                [ -f /jvmm/child-archive ] && . /jvmm/child-archive
                # A boot comes as a machine file (no command-line parser to start); other commands as arguments.
                main="-jar /jvmm/jvmm.jar @/jvmm/args"
                [ -f /jvmm/machine.properties ] && main="-cp /jvmm/jvmm.jar dev.jvmm.lab.InnerBoot /jvmm/machine.properties"
                # A host script (the guest's peers: TAP addresses, vsock clients) runs beside jvmm.
                if [ -f /jvmm/host-script ]; then
                  export JVMM="/jre/bin/java $(cat /jvmm/host-jvm-options) -jar /jvmm/jvmm.jar"
                  (sh /jvmm/host-script; echo "exit status $?") </dev/null >/tmp/host-script.log 2>&1 &
                  hostpid=$!
                fi
                %s </dev/console >/dev/console 2>&1
                rc=$?
                if [ -n "$hostpid" ]; then
                  # Give the host script a few seconds to finish and report, then stop it.
                  n=0; while kill -0 $hostpid 2>/dev/null && [ $n -lt 20 ]; do sleep 1; n=$((n+1)); done
                  kill $hostpid 2>/dev/null
                  # Its output comes after the guest's, so the two never interleave mid-line.
                  sed 's/^/[host-script] /' /tmp/host-script.log
                fi
                [ -f %s ] && echo "JVMM-LAB-METRICS=$(cat %s)"%s
                # A first run per jar trains a class-data archive; the out disk takes it back to the host.
                if [ -f /tmp/app.jsa ] && [ -b /dev/jvmmout ]; then
                  stat -c %%s /tmp/app.jsa > /tmp/size
                  dd if=/tmp/size of=/dev/jvmmout bs=512 count=1 conv=sync 2>/dev/null
                  dd if=/tmp/app.jsa of=/dev/jvmmout bs=1M seek=1 conv=fsync 2>/dev/null
                fi
                sync
                echo "JVMM-LAB-EXIT=$rc"
                poweroff -f
                """.formatted(LabWatchdog.initLine(arch.heartbeatDevice()), String.join(" ", arch.modules()),
                arch.noKvmHint(), java, Lab.INNER_METRICS, Lab.INNER_METRICS, STATIC_ARCHIVE_DUMP);
    }

    /**
     * The first run of a jar records the classes it loads, and L1 dumps one static archive of them
     * and of all of jvmm's own classes (JDK and jvmm classes together) for the out disk. Static
     * on both labs: the arm64 runtime has no default archive to build a dynamic one on (jlink'd
     * on a host that cannot run it), and on x86 the static one started the inner JVM sooner. A
     * benchmark has made it already, from its first boot (JvmmChild), when /tmp/app.jsa exists.
     */
    static final String STATIC_ARCHIVE_DUMP = """

            if [ ! -f /tmp/app.jsa ] && [ -s /tmp/classes.lst ] && [ -b /dev/jvmmout ]; then
              awk '!seen[$0]++' /tmp/classes.lst /jvmm/archived-classes.lst > /tmp/archived.lst 2>/dev/null
              dump="-Xshare:dump -XX:SharedClassListFile=/tmp/archived.lst -XX:SharedArchiveFile=/tmp/app.jsa"
              if ! /jre/bin/java $dump -XX:+UseSerialGC -cp /jvmm/jvmm.jar >/tmp/dump.log 2>&1; then
                rm -f /tmp/app.jsa
                echo "jvmm: lab: no class-data archive this run: $(grep -m 1 -i error /tmp/dump.log || tail -n 1 /tmp/dump.log)"
              fi
            fi""";
}
