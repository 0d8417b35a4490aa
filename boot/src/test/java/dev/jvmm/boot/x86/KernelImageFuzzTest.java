package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Byte-flip fuzzing of ELF and bzImage headers with fixed seeds: each mutant either loads (at or
 * above 1 MiB, inside RAM) or is refused with a one-line KernelLoadException; any other exception
 * (an overflow the checks missed) fails the test with the seed and iteration to reproduce it.
 */
class KernelImageFuzzTest {
    static final int ITERATIONS = 3000;

    /** Flips 1 to 4 random bytes in [from, to), or writes an extreme value there. */
    static byte[] mutate(byte[] good, int from, int to, Random r) {
        byte[] f = good.clone();
        int flips = 1 + r.nextInt(4);
        for (int i = 0; i < flips; i++) {
            int at = from + r.nextInt(to - from);
            switch (r.nextInt(4)) {
                case 0 -> f[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> f[at] = (byte) r.nextInt(256);
                case 2 -> f[at] = (byte) 0xff;
                default -> f[at] = 0;
            }
        }
        return f;
    }

    /** Runs the mutants; returns how many loaded and how many were refused, by first words of the message. */
    static Map<String, Integer> fuzz(String what, byte[] good, int from, int to, long seed) {
        Random r = new Random(seed);
        GuestMemory mem = X86LoaderTest.memory(32);
        Map<String, Integer> outcomes = new TreeMap<>();
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] f = mutate(good, from, to, r);
            X86Loader.Loaded l = null;
            try {
                l = X86Loader.load(mem, f, new byte[4096], "console=ttyS0", 0xe0000);
            } catch (KernelLoadException e) {
                assertTrue(!e.getMessage().isEmpty() && !e.getMessage().contains("\n"), e.getMessage());
            } catch (RuntimeException | Error e) {
                fail(what + " seed " + seed + " iteration " + i + ": " + e, e);
            }
            if (l != null && (l.kernelStart() < X86Layout.HIGH_MEMORY_START || l.kernelEnd() > 32 << 20)) {
                fail(what + " seed " + seed + " iteration " + i + ": loaded over jvmm's structures or past RAM: 0x"
                        + Long.toHexString(l.kernelStart()) + "-0x" + Long.toHexString(l.kernelEnd()));
            }
            String outcome = l != null ? "loaded" : "refused";
            outcomes.merge(outcome, 1, Integer::sum);
        }
        System.out.println(what + " fuzz, seed " + seed + ", " + ITERATIONS + " mutants: " + outcomes);
        return outcomes;
    }

    @Test
    void elfHeaderFlipsOnlyEverLoadOrRefuse() {
        byte[] elf = KernelImageHostileTest.twoSegmentElf(17 << 20);
        for (long seed : new long[] {1, 2}) {
            Map<String, Integer> o = fuzz("ELF", elf, 0, 64 + 2 * 56, seed);
            assertTrue(o.getOrDefault("refused", 0) > 0 && o.getOrDefault("loaded", 0) > 0, o.toString());
        }
    }

    @Test
    void bzImageHeaderFlipsOnlyEverLoadOrRefuse() {
        byte[] bz = KernelImageHostileTest.goodBzImage();
        for (long seed : new long[] {3, 4}) {
            // The boot sector and setup header: 0x1f1 up to the end of the 2.15 header at 0x268.
            Map<String, Integer> o = fuzz("bzImage", bz, 0x1f1, 0x268, seed);
            assertTrue(o.getOrDefault("refused", 0) > 0 && o.getOrDefault("loaded", 0) > 0, o.toString());
        }
    }
}
