package dev.jvmm.boot.arm64;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Byte-flip fuzzing of the arm64 Image header, plain and gzip-compressed, with fixed seeds: each
 * mutant is parsed, planned into 64 MiB of RAM and loaded, and either lands inside RAM, kernel,
 * initrd and device tree apart, or is refused with a one-line KernelLoadException; any other
 * exception fails with the seed and iteration to reproduce it.
 */
class Arm64ImageFuzzTest {
    static final int ITERATIONS = 3000;
    static final long RAM = 64 * Arm64Layout.MIB;

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

    static Map<String, Integer> fuzz(String what, byte[] good, int from, int to, long seed, boolean gzip) {
        Random r = new Random(seed);
        GuestMemory mem = GuestMemory.heap(Arm64Layout.ram(RAM));
        byte[] initrd = new byte[3 * 4096 + 17];
        byte[] dtb = new byte[1024];
        Map<String, Integer> outcomes = new TreeMap<>();
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] f = mutate(good, from, to, r);
            String outcome;
            try {
                Arm64Image image = Arm64Image.parse(gzip ? TestImages.gzip(f) : f, 1 << 20);
                Arm64LoadPlan p = Arm64LoadPlan.plan(Arm64Layout.RAM_BASE, RAM, image, initrd.length);
                p.load(mem, image, initrd, dtb);
                if (p.kernelStart() < Arm64Layout.RAM_BASE || p.kernelEnd() > p.initrdStart()
                        || p.initrdEnd() > p.dtbAddress() || p.dtbAddress() + Arm64LoadPlan.DTB_BLOCK > Arm64Layout.RAM_BASE + RAM
                        || p.kernelStart() % 4096 != 0 || (p.kernelStart() - image.textOffset()) % (2 << 20) != 0) {
                    fail(what + " seed " + seed + " iteration " + i + ": bad plan " + p);
                }
                outcome = "loaded";
            } catch (KernelLoadException e) {
                assertTrue(!e.getMessage().isEmpty() && !e.getMessage().contains("\n"), e.getMessage());
                outcome = "refused";
            } catch (RuntimeException | Error e) {
                fail(what + " seed " + seed + " iteration " + i + ": " + e, e);
                return outcomes;
            }
            outcomes.merge(outcome, 1, Integer::sum);
        }
        System.out.println(what + " fuzz, seed " + seed + ", " + ITERATIONS + " mutants: " + outcomes);
        return outcomes;
    }

    @Test
    void headerFlipsOnlyEverLoadOrRefuse() {
        for (long seed : new long[] {11, 12}) {
            Map<String, Integer> o = fuzz("arm64 Image", TestImages.image(), 0, Arm64Image.HEADER_SIZE, seed, false);
            assertTrue(o.getOrDefault("refused", 0) > 0 && o.getOrDefault("loaded", 0) > 0, o.toString());
        }
    }

    @Test
    void flipsInsideAGzipStreamOnlyEverLoadOrRefuse() {
        byte[] gz = TestImages.gzip(TestImages.image());
        Random r = new Random(13);
        GuestMemory mem = GuestMemory.heap(Arm64Layout.ram(RAM));
        Map<String, Integer> outcomes = new TreeMap<>();
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] f = mutate(gz, 0, gz.length, r);
            try {
                Arm64Image image = Arm64Image.parse(f, 1 << 20);
                Arm64LoadPlan.plan(Arm64Layout.RAM_BASE, RAM, image, 0).load(mem, image, null, new byte[64]);
                outcomes.merge("loaded", 1, Integer::sum);
            } catch (KernelLoadException e) {
                assertTrue(!e.getMessage().contains("\n"), e.getMessage());
                outcomes.merge("refused", 1, Integer::sum);
            } catch (RuntimeException | Error e) {
                fail("gzip seed 13 iteration " + i + ": " + e, e);
            }
        }
        System.out.println("gzip stream fuzz, seed 13, " + ITERATIONS + " mutants: " + outcomes);
        assertTrue(outcomes.getOrDefault("refused", 0) > 0, outcomes.toString());
    }

    @Test
    void headerFlipsUnderGzipOnlyEverLoadOrRefuse() {
        Map<String, Integer> o = fuzz("arm64 Image.gz", TestImages.image(), 0, Arm64Image.HEADER_SIZE, 14, true);
        assertTrue(o.getOrDefault("refused", 0) > 0 && o.getOrDefault("loaded", 0) > 0, o.toString());
    }
}
