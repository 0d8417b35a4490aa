package dev.jvmm.bootbench;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The floor builds as the bench builds it (gcc -O2 -static -Wall -Wextra -Werror), and refuses
 * what it cannot boot with one line and status 2 before it touches /dev/kvm (so this runs on any
 * host).
 */
class FloorVmmTest {
    @TempDir
    static Path dir;
    static Path floor;

    @BeforeAll
    static void compile() throws Exception {
        Path c = dir.resolve("floorvmm.c");
        Files.write(c, FloorVmm.source());
        floor = dir.resolve("floorvmm");
        FloorVmm.compile(c, floor);
    }

    record Run(int status, String stderr) {}

    private static Run run(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of(floor.toString()));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes());
        return new Run(p.waitFor(), err);
    }

    @Test
    void compilesWithWarningsAsErrorsIntoAStaticBinary() throws Exception {
        assertTrue(FloorVmm.FLAGS.containsAll(List.of("-static", "-Wall", "-Wextra", "-Werror")), FloorVmm.FLAGS.toString());
        assertTrue(Files.isExecutable(floor));
        String file = new String(new ProcessBuilder("file", "-L", floor.toString()).start().getInputStream().readAllBytes());
        assertTrue(file.contains("statically linked"), file);
    }

    @Test
    void theFlagsMakeAWarningFatal() throws Exception {
        Path c = dir.resolve("warns.c");
        Files.writeString(c, "int main(void) { int unused; return 0; }\n");
        IOException e = assertThrows(IOException.class, () -> FloorVmm.compile(c, dir.resolve("warns")));
        assertTrue(e.getMessage().contains("unused"), e.getMessage());
    }

    @Test
    void refusesAMissingKernelOrInitrdWithOneLine() throws Exception {
        Run r = run("-k", dir.resolve("no-such-bzImage").toString());
        assertEquals(2, r.status());
        assertEquals("floorvmm: cannot open kernel " + dir.resolve("no-such-bzImage") + ": No such file or directory\n",
                r.stderr());
        Path bz = fakeBzImage();
        Run i = run("-k", bz.toString(), "-i", dir.resolve("no-such-initrd").toString());
        assertEquals(2, i.status());
        assertTrue(i.stderr().startsWith("floorvmm: cannot open initrd "), i.stderr());
    }

    @Test
    void refusesWhatIsNotABzImageAndBadArguments() throws Exception {
        Run notBz = run("-k", floor.toString());
        assertEquals(2, notBz.status());
        assertTrue(notBz.stderr().contains("is not a bzImage"), notBz.stderr());
        Run usage = run("-m", "256");
        assertEquals(2, usage.status());
        assertTrue(usage.stderr().startsWith("floorvmm: usage: floorvmm -k BZIMAGE"), usage.stderr());
        Run mem = run("-k", floor.toString(), "-m", "4096");
        assertEquals(2, mem.status());
        assertTrue(mem.stderr().contains("guest RAM must be 32 to 3072 MiB"), mem.stderr());
        Run cmdline = run("-k", fakeBzImage().toString(), "-c", "x".repeat(5000));
        assertEquals(2, cmdline.status());
        assertTrue(cmdline.stderr().contains("the kernel takes at most 2047"), cmdline.stderr());
    }

    /** The header of a bzImage, protocol 2.15 with the 64-bit entry, and a small body. */
    private static Path fakeBzImage() throws IOException {
        byte[] k = new byte[64 * 1024];
        k[0x1f1] = 4;                                                   // setup_sects
        k[0x201] = 0x6a;                                                // header end: 0x202 + 0x6a
        k[0x202] = 'H'; k[0x203] = 'd'; k[0x204] = 'r'; k[0x205] = 'S';
        k[0x206] = 0x0f; k[0x207] = 0x02;                               // version 2.15
        k[0x22c] = (byte) 0xff; k[0x22d] = (byte) 0xff; k[0x22e] = (byte) 0xff; k[0x22f] = 0x7f; // initrd_addr_max
        k[0x236] = 1;                                                   // XLF_KERNEL_64
        k[0x238] = (byte) 0xff; k[0x239] = 0x07;                        // cmdline_size 2047
        k[0x260] = 0; k[0x261] = 0; k[0x262] = 0x20;                    // init_size 2 MiB
        Path p = dir.resolve("fake-bzImage");
        Files.write(p, k);
        return p;
    }
}
