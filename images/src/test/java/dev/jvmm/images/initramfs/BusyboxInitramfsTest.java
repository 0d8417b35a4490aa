package dev.jvmm.images.initramfs;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BusyboxInitramfsTest {
    @TempDir
    Path tmp;

    @Test
    void theInitFindsConsoleNullAndKmsgBeforeMountingAnything() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/cpio")), "GNU cpio is not installed");
        Assumptions.assumeTrue(Files.isRegularFile(BusyboxInitramfs.BUSYBOX), "busybox-static is not installed");
        Path f = tmp.resolve("i.cpio");
        Files.write(f, BusyboxInitramfs.create("#!/bin/sh\necho '<5>jvmm: init started' > /dev/kmsg\n").toBytes(false));
        Process p = new ProcessBuilder("cpio", "-itv", "--quiet").redirectInput(f.toFile()).redirectErrorStream(true).start();
        String list = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), list);
        assertTrue(list.matches("(?s).*\\bc\\S+ .* 5, +1 .* dev/console\n.*"), list);
        assertTrue(list.matches("(?s).*\\bc\\S+ .* 1, +3 .* dev/null\n.*"), list);
        assertTrue(list.matches("(?s).*\\bc\\S+ .* 1, +11 .* dev/kmsg\n.*"), list);
    }
}
