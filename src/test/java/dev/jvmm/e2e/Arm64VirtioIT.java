package dev.jvmm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jvmm.images.initramfs.BusyboxInitramfs;
import dev.jvmm.images.initramfs.Initramfs;
import dev.jvmm.lab.Lab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VirtioIT's block, read-only, rng and vsock checks on an aarch64 guest (jvmm's arm64 kernel,
 * Debian's arm64 busybox, the test helper cross-compiled), with the same device code: in the
 * arm64 lab here, all in one boot (one L1). The guest writes pseudo-random data to a rw drive
 * with O_DIRECT and reads it back from the device, and the host file's SHA-256 matches; the
 * ro drive is refused by the guest's kernel and unchanged; /dev/hwrng reads from virtio-rng;
 * parallel vsock connections both ways are echoed with CRC-32C matched.
 */
class Arm64VirtioIT {
    @TempDir
    static Path tmp;

    static final long MIB = 1 << 20;
    static final int DATA_MIB = 32;
    static final int CONNECTIONS = 8;
    static final int BYTES = 2 << 20;

    /** An arm64 busybox initramfs with {@code script} as /init and guest-probe cross-compiled as /bin/guest-probe. */
    static Path initramfs(String script) throws Exception {
        Path src = tmp.resolve("guest-probe.c");
        try (var in = Arm64VirtioIT.class.getResourceAsStream("/guest/guest-probe.c")) {
            Files.copy(in, src);
        }
        Path probe = tmp.resolve("guest-probe-aarch64");
        Process cc = new ProcessBuilder("aarch64-linux-gnu-gcc", "-static", "-O2", "-o", probe.toString(), src.toString())
                .redirectErrorStream(true).start();
        String out = new String(cc.getInputStream().readAllBytes());
        assertEquals(0, cc.waitFor(), "aarch64-linux-gnu-gcc guest-probe.c: " + out);
        Initramfs fs = BusyboxInitramfs.create(script, Lab.arm64Busybox(System.err));
        fs.fileFrom("bin/guest-probe", probe, 0755);
        Path cpio = tmp.resolve("virtio-arm64.cpio.gz");
        try (OutputStream o = Files.newOutputStream(cpio)) {
            fs.writeTo(o, true);
        }
        return cpio;
    }

    @Test
    void blockReadBackReadOnlyRngAndVsockBothWaysOnArm64() throws Exception {
        Path disk = tmp.resolve("rw.img");
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1}), 2L * DATA_MIB * MIB - 1); // sparse: truncate only shrinks
        }
        Path ro = tmp.resolve("ro.img");
        byte[] roContent = new byte[4 * (int) MIB];
        new java.util.Random(11).nextBytes(roContent);
        Files.write(ro, roContent);
        String roBefore = ImageBootIT.sha(ro);
        Path init = initramfs(Jvmm.INIT_PRELUDE + """
                echo "ARCH $(uname -m)"
                guest-probe vsock-serve 5000 %2$d > /tmp/serve.log 2>&1 &
                sp=$!
                dd if=/dev/urandom of=/tmp/data bs=1M count=%1$d 2>/dev/null
                echo "GUEST-SHA $(sha256sum /tmp/data | cut -d' ' -f1)"
                dd if=/tmp/data of=/dev/vda bs=1M oflag=direct 2>/dev/null && echo WROTE
                sync
                echo "READBACK $(dd if=/dev/vda bs=1M count=%1$d iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
                echo "SERIAL $(cat /sys/block/vda/serial) RO $(cat /sys/block/vdb/ro)"
                dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>/dev/null || echo "RO-DD-REFUSED"
                echo "HWRNG $(head -c 64 /dev/hwrng | wc -c) $(cat /sys/devices/virtual/misc/hw_random/rng_current)"
                guest-probe vsock-connect 2 6000 %2$d > /tmp/connect.log 2>&1
                wait $sp
                cat /tmp/connect.log /tmp/serve.log
                poweroff -f
                """.formatted(DATA_MIB, CONNECTIONS));
        Path uds = Path.of("/tmp/jvmm-e2e-arm64-vsock-" + ProcessHandle.current().pid() + ".sock");
        Path script = tmp.resolve("vsock-host.sh");
        // Runs where the VM's KVM is (in the lab: inside L1); $JVMM is jvmm itself. Each check to its own file.
        Files.writeString(script, """
                $JVMM vsock-check --uds %1$s --listen 6000 --connections %2$d --bytes %3$d > /tmp/check-listen.log 2>&1 &
                $JVMM vsock-check --uds %1$s --port 5000 --connections %2$d --bytes %3$d > /tmp/check-port.log 2>&1
                wait
                cat /tmp/check-listen.log /tmp/check-port.log
                """.formatted(uds, CONNECTIONS, BYTES));
        Path metrics = tmp.resolve("m.json");
        Jvmm.Result r = Jvmm.run(1200, "boot", "--kernel", Jvmm.arm64Image().toString(), "--initrd", init.toString(),
                "--drive", "path=" + disk + ",serial=arm64-disk", "--drive", "path=" + ro + ",ro", "--vsock", "cid=3,uds=" + uds,
                "--host-script", script.toString(), "--metrics", metrics.toString(), "--timeout", "600", "--timeline");
        String all = r.all();
        System.out.printf("Arm64VirtioIT: %.1f s wall%n", r.millis() / 1000.0);
        assertEquals(0, r.status(), "PSCI SYSTEM_OFF after every check: " + all);
        assertTrue(r.out().contains("ARCH aarch64"), r.out());

        assertTrue(r.out().contains("WROTE"), r.out());
        String guestSha = group(r.out(), "GUEST-SHA ([0-9a-f]{64})");
        assertEquals(guestSha, group(r.out(), "READBACK ([0-9a-f]{64})"), "read back from the device (O_DIRECT)");
        assertEquals(guestSha, sha(disk, DATA_MIB * MIB), "the host file holds what the guest wrote");
        assertTrue(r.out().contains("SERIAL arm64-disk RO 1"), r.out());
        assertTrue(r.out().contains("RO-DD-REFUSED"), "the guest kernel refuses writes to the ro disk: " + r.out());
        assertEquals(roBefore, ImageBootIT.sha(ro), "the read-only file is unchanged");
        assertTrue(r.out().contains("HWRNG 64 virtio_rng"), r.out());

        assertEquals(2, Pattern.compile("vsock-check: " + CONNECTIONS + "/" + CONNECTIONS + " connections echoed " + BYTES
                + " bytes each, crc32c match").matcher(all).results().count(), all);
        assertTrue(all.contains("vsock-connect: " + CONNECTIONS + " of " + CONNECTIONS + " connections echoed to EOF"), all);
        assertTrue(all.contains("vsock-serve: " + CONNECTIONS + " of " + CONNECTIONS + " connections echoed to EOF"), all);

        JsonNode devices = new ObjectMapper().readTree(metrics.toFile()).path("devices");
        assertTrue(devices.path("blk0").path("write_bytes").asLong() >= DATA_MIB * MIB, devices.toString());
        assertTrue(devices.path("blk0").path("read_bytes").asLong() >= DATA_MIB * MIB, devices.toString());
        assertEquals(0, devices.path("blk1").path("write_bytes").asLong(), devices.toString());
        assertTrue(devices.path("rng").path("bytes").asLong() >= 64, devices.toString());
        JsonNode v = devices.path("vsock");
        assertEquals(CONNECTIONS, v.path("host_connections").asLong(), v.toString());
        assertEquals(CONNECTIONS, v.path("guest_connections").asLong(), v.toString());
        assertEquals(2L * CONNECTIONS * BYTES, v.path("rx_bytes").asLong(), v.toString());
        for (String bad : List.of("probe of virtio-mmio", "WARNING:", "Call Trace")) {
            assertFalse(r.out().contains(bad), "'" + bad + "' in the boot log:\n" + r.out());
        }
    }

    private static String group(String text, String regex) {
        var m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for " + regex + " in:\n" + text);
        return m.group(1);
    }

    private static String sha(Path file, long length) throws Exception {
        return ImageBootIT.sha(file, 0, length);
    }
}
