package dev.jvmm.images.initramfs;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InitramfsTest {
    @TempDir
    Path tmp;

    private Initramfs sample() {
        return new Initramfs()
                .file("init", "#!/bin/sh\necho hi\n", 0755)
                .file("etc/deep/config", "x=1\n", 0644)
                .symlink("bin/sh", "busybox")
                .charDevice("dev/console", 5, 1);
    }

    /** Lists an archive with GNU cpio, which no one here wrote. */
    private String cpioList(byte[] archive) throws Exception {
        Path f = tmp.resolve("a.cpio");
        Files.write(f, archive);
        Process p = new ProcessBuilder("cpio", "-itv", "--quiet").redirectInput(f.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    @Test
    void gnuCpioReadsWhatWeWrite() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/cpio")), "GNU cpio is not installed");
        String list = cpioList(sample().toBytes(false));
        assertTrue(list.matches("(?s).*-rwxr-xr-x .* init\n.*"), list);
        assertTrue(list.contains(" etc\n") && list.contains(" etc/deep\n"), "parents created: " + list);
        assertTrue(list.matches("(?s).*lrwxrwxrwx .* bin/sh -> busybox.*"), list);
        assertTrue(list.matches("(?s).*crw------- .* 5, +1 .* dev/console.*"), list);
        Path out = Files.createDirectories(tmp.resolve("x"));
        Path archive = tmp.resolve("b.cpio");
        Files.write(archive, sample().toBytes(false));
        Process p = new ProcessBuilder("cpio", "-id", "--quiet", "--no-absolute-filenames", "--nonmatching", "dev/*")
                .directory(out.toFile()).redirectInput(archive.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), log);
        assertEquals("x=1\n", Files.readString(out.resolve("etc/deep/config")));
    }

    @Test
    void outputIsReproducible() throws Exception {
        assertArrayEquals(sample().toBytes(true), sample().toBytes(true));
    }

    @Test
    void badPathsAreRefused() {
        Initramfs fs = new Initramfs().file("a", "x", 0644);
        assertThrows(IllegalArgumentException.class, () -> fs.file("a", "y", 0644), "duplicate");
        assertThrows(IllegalArgumentException.class, () -> fs.file("../etc/passwd", "y", 0644), "escape");
        assertThrows(IllegalArgumentException.class, () -> fs.dir("/"), "root");
    }
}
