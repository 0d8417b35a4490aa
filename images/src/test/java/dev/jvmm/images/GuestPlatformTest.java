package dev.jvmm.images;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guest scripts' reading of the platform word, run by the shells guests have (busybox ash)
 * and Debian's dash, with /proc/cmdline replaced by a file and devmem by an echo.
 */
class GuestPlatformTest {
    @TempDir
    Path tmp;

    private String run(String shell, String cmdline, String then) throws Exception {
        Path file = tmp.resolve("cmdline");
        Files.writeString(file, cmdline + "\n");
        String script = GuestPlatform.shell("echo devmem").replace("/proc/cmdline", file.toString())
                + "echo \"platform=[$jvmm_platform]\"\n" + then;
        Process p = new ProcessBuilder(shell.split(" ")).redirectErrorStream(true).start();
        p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"/bin/busybox sh", "/bin/dash"})
    void theArm64AndX86PagesAreFoundAnywhereOnTheLine(String shell) throws Exception {
        assertEquals("platform=[0x40000000]\ndevmem 0x40000000 8 123\ndevmem 1073741840 8 7\n",
                run(shell, "console=ttyS0 earlycon panic=1 jvmm.platform=0x40000000", "jvmm_ready\njvmm_exit 7\n"));
        assertEquals("platform=[0xc0000000]\ndevmem 3221225488 8 0\n",
                run(shell, "jvmm.platform=0xc0000000 console=ttyS0", "jvmm_exit 0\n"));
        assertEquals("platform=[0xc0000000]\n", run(shell, "BOOT_IMAGE=(hd0,gpt3)/vmlinuz root=/dev/dm-0 "
                + "dm-mod.create=\"root,,,ro,0 8 verity 1 a b 4096 4096 1 1 sha256 00 00\" jvmm.slot=A jvmm.platform=0xc0000000", ""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/bin/busybox sh", "/bin/dash"})
    void withoutAUsableWordNothingIsWritten(String shell) throws Exception {
        for (String line : new String[] {"console=ttyS0", "", "xjvmm.platform=0x40000000", "jvmm.platform=",
                "jvmm.platform=0x", "jvmm.platform=0x4000zz00", "jvmm.platform=1073741824", "jvmm.platform=0x40;reboot"}) {
            assertEquals("platform=[]\n", run(shell, line, "jvmm_ready\njvmm_exit 3\n"), line);
        }
    }
}
