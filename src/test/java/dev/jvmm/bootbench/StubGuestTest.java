package dev.jvmm.bootbench;

import dev.jvmm.boot.PlatformWord;
import dev.jvmm.boot.x86.KernelImage;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stub guest is the assembly beside it, and an ELF that jvmm's loader and binutils both read. */
class StubGuestTest {
    @TempDir
    Path tmp;

    @Test
    void jvmmsLoaderTakesItAsAVmlinux() throws Exception {
        KernelImage image = KernelImage.parse(StubGuest.elf());
        KernelImage.Elf elf = (KernelImage.Elf) image;
        assertEquals(StubGuest.LOAD_ADDRESS, elf.entry());
        assertEquals(1, elf.segments().size());
        KernelImage.Segment s = elf.segments().get(0);
        assertEquals(StubGuest.LOAD_ADDRESS, s.physAddr());
        assertEquals(StubGuest.CODE.length, s.fileSize());
        // The page directory the code fills lies inside the segment, zeroed by the loader.
        assertTrue(s.physAddr() + s.memSize() >= StubGuest.PAGE_DIRECTORY + 4096);
        assertTrue(StubGuest.CODE.length <= StubGuest.PAGE_DIRECTORY - StubGuest.LOAD_ADDRESS);
    }

    @Test
    void itsLinesAreTheOnesTheBenchReads() {
        String text = new String(StubGuest.CODE, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains(BenchConsole.READY_WORDS + "\n"), "ready line");
        assertTrue(text.contains(BenchConsole.STOPPING_MARKER + "\n"), "stopping line");
        assertTrue(text.contains(PlatformWord.KEY + "=0x"), "the platform page's key");
    }

    @Test
    void theBytesAreTheAssembledSource() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/as")) && Files.isExecutable(Path.of("/usr/bin/objcopy")),
                "GNU as and objcopy (binutils)");
        Path src = tmp.resolve("stub-guest.S");
        try (InputStream in = StubGuest.class.getResourceAsStream("stub-guest.S")) {
            Files.copy(in, src);
        }
        run("/usr/bin/as", "--64", "-o", tmp.resolve("stub.o").toString(), src.toString());
        run("/usr/bin/objcopy", "-O", "binary", "-j", ".text", tmp.resolve("stub.o").toString(),
                tmp.resolve("stub.bin").toString());
        byte[] bin = Files.readAllBytes(tmp.resolve("stub.bin"));
        assertArrayEquals(StubGuest.CODE, Arrays.copyOf(bin, StubGuest.CODE.length));
    }

    @Test
    void readelfSeesOneLoadSegmentAtItsAddress() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/readelf")), "readelf (binutils)");
        Path elf = tmp.resolve("stub.elf");
        Files.write(elf, StubGuest.elf());
        String out = run("/usr/bin/readelf", "-W", "-h", "-l", elf.toString());
        assertTrue(out.contains("Advanced Micro Devices X86-64"), out);
        assertTrue(out.contains("Entry point address:               0x1000000"), out);
        assertTrue(out.lines().anyMatch(l -> l.trim().startsWith("LOAD") && l.contains("0x0000000001000000")
                && l.contains("RWE")), out);
    }

    private static String run(String... argv) throws Exception {
        Process p = new ProcessBuilder(List.of(argv)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
