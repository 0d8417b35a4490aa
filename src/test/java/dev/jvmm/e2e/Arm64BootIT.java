package dev.jvmm.e2e;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jvmm's own arm64 kernel booted through the same machine builder as x86, with busybox inits of
 * Debian's arm64 busybox: on an arm64 host with KVM directly, in the arm64 lab elsewhere. The
 * device tree's UART, PL031 and virtio-mmio devices, PSCI's CPU_ON, SYSTEM_OFF and
 * SYSTEM_RESET, and the platform page at 0x4000_0000 (named by jvmm.platform= on the command
 * line, which the inits read), each seen from inside the guest.
 */
class Arm64BootIT {
    @TempDir
    static Path tmp;
    static Path image;
    static Path exit7;
    static Path probe;

    static final String MARKER = "JVMM-ARM64-MARKER";
    static final String PRELUDE = Jvmm.INIT_PRELUDE + """
            echo "%s cpus=$(nproc) arch=$(uname -m)"
            """.formatted(MARKER);

    @BeforeAll
    static void kernelAndInits() throws Exception {
        image = Jvmm.arm64Image();
        exit7 = Jvmm.initramfs(tmp, "exit7", PRELUDE + """
                echo "platform page $jvmm_platform"
                jvmm_ready
                jvmm_exit 7
                sleep 30
                """, "aarch64");
        probe = Jvmm.initramfs(tmp, "probe", PRELUDE + """
                for d in /sys/bus/virtio/devices/*; do echo "virtio $(cat $d/device) $(basename $(readlink $d/driver))"; done
                echo "rtc $(cat /sys/class/rtc/rtc0/name) $(cat /sys/class/rtc/rtc0/since_epoch)"
                echo "hwrng $(head -c 16 /dev/hwrng | od -An -tx1 | tr -d ' \\n')"
                grep -E "ttyS0|virtio0|rtc-pl031" /proc/interrupts
                jvmm_ready
                grep -q jvmm.do=reboot /proc/cmdline && reboot -f
                poweroff -f
                """, "aarch64");
    }

    private static Jvmm.Result boot(Path initrd, String... extra) throws Exception {
        String[] args = new String[8 + extra.length];
        System.arraycopy(new String[] {"boot", "--kernel", image.toString(), "--initrd", initrd.toString(), "--timeline",
                "--timeout", "300"}, 0, args, 0, 8);
        System.arraycopy(extra, 0, args, 8, extra.length);
        return Jvmm.run(900, args);
    }

    @Test
    void theGuestExitsWithItsStatusThroughThePlatformPage() throws Exception {
        Jvmm.Result r = boot(exit7);
        assertEquals(7, r.status(), r.all());
        assertTrue(r.out().contains(MARKER + " cpus=1 arch=aarch64"), r.out());
        assertTrue(r.out().contains("platform page 0x40000000"), "the board names its page on the command line: " + r.out());
        assertTrue(r.out().contains("earlycon: ns16550a0 at MMIO 0x0000000040002000"), "earlycon through stdout-path: " + r.out());
        assertTrue(r.all().contains("kernel loaded (Image)"), r.all());
        Matcher ready = Pattern.compile("([\\d.]+)\\s+\\(\\+\\s*[\\d.]+\\)\\s+guest ready \\(boot timer\\)").matcher(r.all());
        assertTrue(ready.find(), "the boot timer reached the timeline: " + r.all());
        System.out.printf("Arm64BootIT: guest ready %s ms after the inner jvmm started; %.1f s wall%n", ready.group(1),
                r.millis() / 1000.0);
    }

    @Test
    void twoCpusTheDevicesOfTheTreeAndPsciPowerOff() throws Exception {
        Jvmm.Result r = boot(probe, "--cpus", "2");
        assertEquals(0, r.status(), "PSCI SYSTEM_OFF is a power-off: " + r.all());
        assertTrue(r.out().contains(MARKER + " cpus=2"), "the secondary came up through PSCI CPU_ON: " + r.out());
        assertTrue(r.out().contains("virtio 0x0004 virtio_rng"), r.out());
        assertTrue(Pattern.compile("hwrng [0-9a-f]{32}").matcher(r.out()).find(), r.out());
        assertTrue(Pattern.compile("rtc rtc-pl031 40001000\\.rtc \\d{10}").matcher(r.out()).find(),
                "the PL031 probed by its PrimeCell IDs, with the host's time: " + r.out());
        assertTrue(Pattern.compile("GICv3\\s+33 Level\\s+ttyS0").matcher(r.out()).find(), "UART on SPI 1, level: " + r.out());
        assertTrue(Pattern.compile("GICv3\\s+48 Edge\\s+virtio0").matcher(r.out()).find(), "virtio on SPI 16, edge: " + r.out());
        assertTrue(r.all().contains("VM stopped: PSCI SYSTEM_OFF (poweroff)"), r.all());
    }

    @Test
    void psciSystemResetIsAReboot() throws Exception {
        Jvmm.Result r = boot(probe, "--append", "jvmm.do=reboot");
        assertEquals(64, r.status(), r.all());
        assertTrue(r.all().contains("VM stopped: PSCI SYSTEM_RESET (reboot)"), r.all());
    }
}
