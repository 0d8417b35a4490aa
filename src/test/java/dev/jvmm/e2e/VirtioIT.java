package dev.jvmm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The virtio devices driven by the guest kernel's own drivers (virtio_blk, virtio_net,
 * vmw_vsock_virtio_transport, virtio_rng), through the whole stack; in the nested lab here.
 */
class VirtioIT {
    @TempDir
    static Path tmp;
    static Path kernel;

    static final long MIB = 1 << 20;

    @BeforeAll
    static void kernelBuilt() throws Exception {
        kernel = Jvmm.kernel()[1];
    }

    private static Jvmm.Result boot(Path initrd, String... extra) throws Exception {
        String[] args = new String[7 + extra.length];
        args[0] = "boot";
        args[1] = "--kernel";
        args[2] = kernel.toString();
        args[3] = "--initrd";
        args[4] = initrd.toString();
        args[5] = "--timeout";
        args[6] = "400";
        System.arraycopy(extra, 0, args, 7, extra.length);
        return Jvmm.run(900, args);
    }

    private static String group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for " + regex + " in:\n" + text);
        return m.group(1);
    }

    private static String sha256(Path file, long length) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            long left = length;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                md.update(buf, 0, n);
                left -= n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static Path sparseFile(String name, long size) throws Exception {
        Path p = tmp.resolve(name);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.truncate(size);
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1}), size - 1);
        }
        return p;
    }

    @Test
    void blockWritesSurviveAReadOnlyDriveRefusesAndRngFeedsTheGuest() throws Exception {
        Path disk = sparseFile("rw.img", 96 * MIB);
        Path ro = tmp.resolve("ro.img");
        byte[] roContent = new byte[4 * (int) MIB];
        new java.util.Random(7).nextBytes(roContent);
        Files.write(ro, roContent);
        String roBefore = sha256(ro, Files.size(ro));

        // Boot 1: 64 MiB of pseudo-random data to the rw drive, synced, then power off.
        Path write = Jvmm.initramfsWithProbe(tmp, "blk-write", Jvmm.INIT_PRELUDE + """
                dd if=/dev/urandom of=/tmp/data bs=1M count=64 2>/dev/null
                echo "GUEST-SHA $(sha256sum /tmp/data | cut -d' ' -f1)"
                dd if=/tmp/data of=/dev/vda bs=1M oflag=direct 2>/dev/null && echo WROTE
                sync
                poweroff -f
                """);
        Path m1 = tmp.resolve("m1.json");
        Jvmm.Result r1 = boot(write, "--drive", "path=" + disk + ",serial=e2e-disk", "--metrics", m1.toString());
        assertEquals(0, r1.status(), r1.all());
        assertTrue(r1.out().contains("WROTE"), r1.all());
        String guestSha = group(r1.out(), "GUEST-SHA ([0-9a-f]{64})");
        assertEquals(guestSha, sha256(disk, 64 * MIB), "the host file holds what the guest wrote");
        JsonNode blk = new ObjectMapper().readTree(m1.toFile()).path("devices").path("blk0");
        assertTrue(blk.path("write_bytes").asLong() >= 64 * MIB, blk.toString());

        // Boot 2: read it back; the ro drive is read-only to the guest; the rng device feeds /dev/hwrng.
        Path read = Jvmm.initramfsWithProbe(tmp, "blk-read", Jvmm.INIT_PRELUDE + """
                echo "READBACK $(dd if=/dev/vda bs=1M count=64 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
                echo "SERIAL $(cat /sys/block/vda/serial) RO $(cat /sys/block/vdb/ro)"
                dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>/dev/null || echo "RO-DD-REFUSED"
                echo "HWRNG $(head -c 64 /dev/hwrng | wc -c) $(cat /sys/devices/virtual/misc/hw_random/rng_current)"
                dmesg | grep -m1 'crng init done'
                poweroff -f
                """);
        Path m2 = tmp.resolve("m2.json");
        Jvmm.Result r2 = boot(read, "--drive", "path=" + disk + ",serial=e2e-disk", "--drive", "path=" + ro + ",ro",
                "--metrics", m2.toString());
        assertEquals(0, r2.status(), r2.all());
        assertEquals(guestSha, group(r2.out(), "READBACK ([0-9a-f]{64})"), "a second boot reads back what the first wrote");
        assertTrue(r2.out().contains("SERIAL e2e-disk RO 1"), r2.out());
        assertTrue(r2.out().contains("RO-DD-REFUSED"), "the guest kernel refuses writes to the ro disk: " + r2.out());
        JsonNode devices = new ObjectMapper().readTree(m2.toFile()).path("devices");
        // Linux honours VIRTIO_BLK_F_RO at every write path (write, mmap, zeroout and discard
        // ioctls), so nothing reaches the device: jvmm's own refusal and its rejected_writes
        // counter are tested in BlockDeviceTest with a driver that ignores the flag.
        assertEquals(0, devices.path("blk1").path("write_bytes").asLong(), devices.toString());
        assertEquals(roBefore, sha256(ro, Files.size(ro)), "the read-only file is unchanged");
        assertTrue(r2.out().contains("HWRNG 64 virtio_rng"), r2.out());
        assertTrue(devices.path("rng").path("bytes").asLong() >= 64, devices.toString());
        assertTrue(r2.out().contains("random: crng init done"), r2.out());
        // Three devices, the default discovery: each found once, and the rest of the log clean too.
        for (String bad : List.of("probe of virtio-mmio", "XSAVE consistency problem", "WARNING:", "Call Trace", "PCI: Fatal")) {
            assertFalse(r2.out().contains(bad), "'" + bad + "' in the boot log:\n" + r2.out());
        }
        assertTrue(r2.out().contains("x86/fpu: Enabled xstate features"), "the guest uses XSAVE: " + r2.out());
    }

    @Test
    void vsockSixteenConnectionsEachWay() throws Exception {
        Path init = Jvmm.initramfsWithProbe(tmp, "vsock", Jvmm.INIT_PRELUDE + """
                guest-probe vsock-serve 5000 16 > /tmp/serve.log 2>&1 &
                sp=$!
                guest-probe vsock-connect 2 6000 16 > /tmp/connect.log 2>&1
                wait $sp
                cat /tmp/connect.log /tmp/serve.log
                poweroff -f
                """);
        Path script = tmp.resolve("vsock-host.sh");
        Path uds = Path.of("/tmp/jvmm-e2e-vsock-" + ProcessHandle.current().pid() + ".sock");
        // Runs where the VM's KVM is (in the lab: inside L1); $JVMM is jvmm itself.
        Files.writeString(script, """
                # Each check writes to its own file: two writers on one stream can interleave.
                $JVMM vsock-check --uds %1$s --listen 6000 --connections 16 --bytes 8388608 > /tmp/check-listen.log 2>&1 &
                $JVMM vsock-check --uds %1$s --port 5000 --connections 16 --bytes 8388608 > /tmp/check-port.log 2>&1
                wait
                cat /tmp/check-listen.log /tmp/check-port.log
                """.formatted(uds));
        Path m = tmp.resolve("vsock.json");
        Jvmm.Result r = boot(init, "--vsock", "cid=3,uds=" + uds, "--host-script", script.toString(), "--metrics", m.toString());
        assertEquals(0, r.status(), r.all());
        String all = r.all();
        assertEquals(2, Pattern.compile("vsock-check: 16/16 connections echoed 8388608 bytes each, crc32c match").matcher(all)
                .results().count(), all);
        assertTrue(all.contains("vsock-connect: 16 of 16 connections echoed to EOF"), all);
        assertTrue(all.contains("vsock-serve: 16 of 16 connections echoed to EOF"), all);
        JsonNode v = new ObjectMapper().readTree(m.toFile()).path("devices").path("vsock");
        assertEquals(16, v.path("host_connections").asLong(), v.toString());
        assertEquals(16, v.path("guest_connections").asLong(), v.toString());
        assertEquals(2 * 16 * 8 * MIB, v.path("rx_bytes").asLong(), v.toString());
    }

    @Test
    void netTcpBothWaysThroughATap() throws Exception {
        // Traffic only between the TAP's address and the guest's; every loop bounded in count.
        // busybox nc closes on stdin EOF, so each listener hands its socket to cat instead.
        Path init = Jvmm.initramfsWithProbe(tmp, "net", Jvmm.INIT_PRELUDE + """
                ip link set lo up
                ip addr add 10.213.7.2/24 dev eth0
                ip link set eth0 up
                i=0; until [ "$(cat /sys/class/net/eth0/operstate)" = up ]; do i=$((i+1)); [ $i -ge 50 ] && break; sleep 0.1; done
                echo "LINK $(cat /sys/class/net/eth0/address) $(cat /sys/class/net/eth0/operstate)"
                head -c 4194304 /dev/urandom > /tmp/g2h
                echo "GUEST-SENT $(sha256sum /tmp/g2h | cut -d' ' -f1)"
                nc -l -p 5001 -e sh -c 'cat > /tmp/h2g' &
                lp=$!
                i=0; until nc 10.213.7.1 5002 < /tmp/g2h > /dev/null; do i=$((i+1)); [ $i -ge 30 ] && break; sleep 1; done
                wait $lp
                echo "GUEST-GOT $(sha256sum /tmp/h2g | cut -d' ' -f1)"
                poweroff -f
                """);
        Path script = tmp.resolve("net-host.sh");
        Files.writeString(script, """
                i=0; until [ -e /sys/class/net/jvmmtap0 ]; do i=$((i+1)); [ $i -ge 300 ] && exit 1; sleep 0.2; done
                ip addr add 10.213.7.1/24 dev jvmmtap0
                ip link set jvmmtap0 up
                head -c 4194304 /dev/urandom > /tmp/h2g
                echo "HOST-SENT $(sha256sum /tmp/h2g | cut -d' ' -f1)"
                nc -l -p 5002 -e sh -c 'cat > /tmp/g2h' &
                lp=$!
                i=0; until nc 10.213.7.2 5001 < /tmp/h2g > /dev/null; do i=$((i+1)); [ $i -ge 30 ] && break; sleep 1; done
                wait $lp
                echo "HOST-GOT $(sha256sum /tmp/g2h | cut -d' ' -f1)"
                """);
        Path m = tmp.resolve("net.json");
        Jvmm.Result r = boot(init, "--net", "tap=jvmmtap0,mac=06:00:4a:56:4d:42", "--host-script", script.toString(),
                "--metrics", m.toString());
        assertEquals(0, r.status(), r.all());
        String all = r.all();
        assertTrue(all.contains("LINK 06:00:4a:56:4d:42 up"), all);
        assertEquals(group(all, "GUEST-SENT ([0-9a-f]{64})"), group(all, "HOST-GOT ([0-9a-f]{64})"), "guest to host");
        assertEquals(group(all, "HOST-SENT ([0-9a-f]{64})"), group(all, "GUEST-GOT ([0-9a-f]{64})"), "host to guest");
        JsonNode n = new ObjectMapper().readTree(m.toFile()).path("devices").path("net0");
        assertTrue(n.path("rx_bytes").asLong() >= 4 * MIB && n.path("tx_bytes").asLong() >= 4 * MIB, n.toString());
    }
}
