package dev.jvmm.images.disk;

import dev.jvmm.images.initramfs.BusyboxInitramfs;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The inits jvmm writes into guests, as rendered: no placeholder left, the platform page taken
 * from the command line (no address of either architecture written in them), and shell syntax
 * that busybox's ash and dash both accept.
 */
class GuestInitsTest {
    private static void syntaxOk(String shell, String script) throws Exception {
        Process p = new ProcessBuilder((shell + " -n").split(" ")).redirectErrorStream(true).start();
        p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), shell + ": " + out);
    }

    @Test
    void everyInitReadsThePlatformPageFromTheCommandLine() throws Exception {
        for (String init : new String[] {Rootfs.init(Layout.BOTTLEROCKET, "1.0.0"), Rootfs.init(Layout.COS, "2.0.0"),
                BusyboxInitramfs.defaultInit()}) {
            assertFalse(init.contains("@"), "a placeholder left: " + init);
            assertFalse(init.contains("0xc0000000") || init.contains("0x40000000") || init.contains("devmem 0x"), init);
            assertTrue(init.contains("read -r jvmm_platform < /proc/cmdline"), init);
            assertTrue(init.indexOf("mount -t proc proc /proc") < init.indexOf("/proc/cmdline"), "proc first: " + init);
            assertTrue(init.indexOf("jvmm_ready() {") < init.indexOf("\njvmm_ready\n"), init);
            syntaxOk("/bin/dash", init);
            syntaxOk("/bin/busybox sh", init);
        }
        assertTrue(Rootfs.init(Layout.COS, "2.0.0").contains("*\" jvmm.exit_when_ready=1 \"*) jvmm_exit 0 ;;"));
    }
}
