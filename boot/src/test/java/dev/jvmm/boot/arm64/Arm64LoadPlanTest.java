package dev.jvmm.boot.arm64;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.jvmm.boot.arm64.Arm64Layout.GIB;
import static dev.jvmm.boot.arm64.Arm64Layout.MIB;
import static dev.jvmm.boot.arm64.Arm64Layout.RAM_BASE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** booting.rst's placement rules for kernel, initrd and device tree, and the loader that follows the plan. */
class Arm64LoadPlanTest {
    static Arm64Image image() throws KernelLoadException {
        return Arm64Image.parse(TestImages.image());
    }

    /** The rules every plan must keep, whatever the sizes. */
    static void assertBootingRules(Arm64LoadPlan p, Arm64Image image, long ramSize) {
        assertEquals(0, (p.kernelStart() - image.textOffset()) % (2 * MIB), "Image at text_offset above a 2 MiB aligned base");
        assertTrue(p.kernelStart() - image.textOffset() >= RAM_BASE, "base in RAM");
        assertEquals(image.imageSize(), p.kernelEnd() - p.kernelStart(), "image_size bytes kept for the kernel");
        assertEquals(0, p.dtbAddress() % (2 * MIB), "device tree alone in its 2 MiB block (and so 8-byte aligned)");
        assertTrue(p.dtbAddress() + 2 * MIB <= RAM_BASE + ramSize, "device tree block inside RAM");
        assertEquals(0, p.initrdStart() % 4096, "initrd page aligned");
        assertTrue(p.kernelEnd() <= p.initrdStart() && p.initrdEnd() <= p.dtbAddress(), "kernel, initrd, tree apart");
        // one 1 GiB aligned window of at most 32 GiB covering kernel and initrd
        long window = p.kernelStart() & -GIB;
        assertTrue(p.initrdEnd() - window <= 32 * GIB, "initrd within 32 GiB of the kernel's 1 GiB aligned window");
    }

    @Test
    void a256MiBGuestHasTheTreeAtTheTopAndTheInitrdBelowIt() throws Exception {
        Arm64Image image = image();
        Arm64LoadPlan p = Arm64LoadPlan.plan(RAM_BASE, 256 * MIB, image, MIB + 17);
        assertEquals(0x80000000L, p.kernelStart());
        assertEquals(0x80000000L, p.entry());
        assertEquals(0x80010000L, p.kernelEnd());
        assertEquals(0x8fe00000L, p.dtbAddress());
        assertEquals(0x8fcff000L, p.initrdStart(), "1 MiB + 17 bytes, rounded down to a page below the tree");
        assertEquals(0x8fcff000L + MIB + 17, p.initrdEnd());
        assertBootingRules(p, image, 256 * MIB);
    }

    @Test
    void aLegacyImageGoesHalfAMegabyteAboveTheBase() throws Exception {
        Arm64Image old = Arm64Image.parse(TestImages.image(b -> b.putLong(16, 0)));
        Arm64LoadPlan p = Arm64LoadPlan.plan(RAM_BASE, 128 * MIB, old, 0);
        assertEquals(0x80080000L, p.kernelStart());
        assertEquals(p.initrdStart(), p.initrdEnd(), "no initrd");
        assertBootingRules(p, old, 128 * MIB);
    }

    @Test
    void aGuestOver32GiBKeepsInitrdAndTreeInTheFirst32GiB() throws Exception {
        Arm64Image image = image();
        Arm64LoadPlan p = Arm64LoadPlan.plan(RAM_BASE, 64 * GIB, image, 100 * MIB);
        assertEquals(RAM_BASE + 32 * GIB - 2 * MIB, p.dtbAddress());
        assertBootingRules(p, image, 64 * GIB);
        for (long ram : new long[] {6 * MIB, 31 * GIB + 2 * MIB, 32 * GIB, 32 * GIB + 2 * MIB, 1022 * GIB}) {
            assertBootingRules(Arm64LoadPlan.plan(RAM_BASE, ram, image, 4096), image, ram);
        }
    }

    static void refused(String fragment, Executable e) {
        KernelLoadException x = assertThrows(KernelLoadException.class, e::run);
        assertTrue(x.getMessage().contains(fragment), "'" + x.getMessage() + "' should mention '" + fragment + "'");
        assertFalse(x.getMessage().contains("\n"));
    }

    interface Executable {
        void run() throws Exception;
    }

    @Test
    void whatDoesNotFitIsRefusedSayingHowMuchIsNeeded() throws Exception {
        Arm64Image image = image();
        refused("need 3 MiB of guest RAM; the guest has 2 MiB", () -> Arm64LoadPlan.plan(RAM_BASE, 2 * MIB, image, 0));
        refused("initrd (102400 KiB) and device tree (2 MiB) need 103 MiB of guest RAM; the guest has 64 MiB",
                () -> Arm64LoadPlan.plan(RAM_BASE, 64 * MIB, image, 100 * MIB));
        refused("need 33795 MiB of guest RAM in the first 32 GiB",
                () -> Arm64LoadPlan.plan(RAM_BASE, 64 * GIB, image, 33 * GIB));
        refused("not a 1 GiB aligned range", () -> Arm64LoadPlan.plan(RAM_BASE + 2 * MIB, 64 * MIB, image, 0));
        refused("not a 1 GiB aligned range", () -> Arm64LoadPlan.plan(RAM_BASE, 1L << 40, image, 0));
        refused("not a 1 GiB aligned range", () -> Arm64LoadPlan.plan(RAM_BASE, 0, image, 0));
        refused("initrd size -1 is negative", () -> Arm64LoadPlan.plan(RAM_BASE, 64 * MIB, image, -1));
        refused("the guest has 64 MiB", () -> Arm64LoadPlan.plan(RAM_BASE, 64 * MIB, image, Long.MAX_VALUE));
    }

    @Test
    void loadingWritesKernelInitrdAndTreeWherePlanned() throws Exception {
        Arm64Image image = image();
        byte[] initrd = new byte[5000];
        Arrays.fill(initrd, (byte) 0x1d);
        byte[] dtb = new byte[] {(byte) 0xd0, 0x0d, (byte) 0xfe, (byte) 0xed};
        GuestMemory mem = GuestMemory.heap(Arm64Layout.ram(64 * MIB));
        Arm64LoadPlan p = Arm64LoadPlan.plan(RAM_BASE, 64 * MIB, image, initrd.length);
        p.load(mem, image, initrd, dtb);
        assertArrayEquals(image.image(), mem.read(p.kernelStart(), image.image().length));
        assertArrayEquals(initrd, mem.read(p.initrdStart(), initrd.length));
        assertArrayEquals(dtb, mem.read(p.dtbAddress(), dtb.length));
    }

    @Test
    void aRefusedLoadWritesNothing() throws Exception {
        Arm64Image image = image();
        GuestMemory mem = GuestMemory.heap(Arm64Layout.ram(64 * MIB));
        Arm64LoadPlan p = Arm64LoadPlan.plan(RAM_BASE, 64 * MIB, image, 4096);
        refused("initrd is 4095 bytes; the plan was made for 4096", () -> p.load(mem, image, new byte[4095], new byte[8]));
        refused("initrd is 0 bytes", () -> p.load(mem, image, null, new byte[8]));
        refused("device tree is 2097160 bytes", () -> p.load(mem, image, new byte[4096], new byte[2 * (int) MIB + 8]));
        Arm64LoadPlan bigger = Arm64LoadPlan.plan(RAM_BASE, 128 * MIB, image, 4096);
        refused("lies outside guest RAM", () -> bigger.load(mem, image, new byte[4096], new byte[8]));
        assertEquals(0, mem.read32(RAM_BASE), "kernel not written");
        assertArrayEquals(new byte[4096], mem.read(p.initrdStart(), 4096), "initrd area untouched");
    }
}
