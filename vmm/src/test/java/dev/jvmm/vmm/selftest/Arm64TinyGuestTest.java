package dev.jvmm.vmm.selftest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The arm64 tiny guest's hand-assembled words, against the cross-assembler's; it runs in the arm64 lab (Arm64LabIT). */
class Arm64TinyGuestTest {
    @TempDir
    Path tmp;

    static final Path AS = Path.of("/usr/bin/aarch64-linux-gnu-as");
    static final Path OBJCOPY = Path.of("/usr/bin/aarch64-linux-gnu-objcopy");

    @Test
    void theCodeIsWhatTheAssemblerMakesOfItsListing() throws Exception {
        assumeTrue(Files.isExecutable(AS) && Files.isExecutable(OBJCOPY), "needs binutils-aarch64-linux-gnu");
        String listing = """
                    movz x1, #0x42
                    movz x0, #0x4000, lsl #16
                    str  w1, [x0]
                    ldr  w2, [x0, #4]
                    add  w2, w2, #1
                    str  w2, [x0, #8]
                    movz w0, #0x0008
                    movk w0, #0x8400, lsl #16
                    hvc  #0
                    b    .
                """;
        Path s = tmp.resolve("g.s");
        Files.writeString(s, listing);
        run(AS.toString(), s.toString(), "-o", tmp.resolve("g.o").toString());
        run(OBJCOPY.toString(), "-O", "binary", "-j", ".text", tmp.resolve("g.o").toString(), tmp.resolve("g.bin").toString());
        byte[] bin = Files.readAllBytes(tmp.resolve("g.bin"));
        assertArrayEquals(bin, Arm64TinyGuest.code());
        ByteBuffer b = ByteBuffer.wrap(bin).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x84000008, 0x84000000 | 8, "PSCI SYSTEM_OFF's function id");
        assertEquals(Arm64TinyGuest.CODE.length * 4, b.remaining());
    }

    @Test
    void theOutcomePassesOnlyOnTheFourExpectedExitsInOrder() {
        List<String> want = Arm64TinyGuest.Outcome.expected();
        assertEquals(List.of("mmio write 0x40000000 4 0x42", "mmio read 0x40000004 4", "mmio write 0x40000008 4 0x18",
                "system event shutdown"), want);
        assertTrue(new Arm64TinyGuest.Outcome(want, 3, new int[8]).passed());
        assertFalse(new Arm64TinyGuest.Outcome(want.subList(0, 3), 3, new int[8]).passed());
        assertFalse(new Arm64TinyGuest.Outcome(List.of(want.get(1), want.get(0), want.get(2), want.get(3)), 3, new int[8])
                .passed());
    }

    private static void run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", argv) + ": " + out);
    }
}
