package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelFiles;
import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A corpus of hostile ELF and bzImage headers, one row each: the loader must refuse every one
 * with a KernelLoadException of one line naming the problem, leave the file's bytes and guest
 * memory untouched, and throw nothing else (no IndexOutOfBounds, no wrapped offsets accepted).
 */
class KernelImageHostileTest {
    @TempDir
    Path tmp;

    /** One hostile header: how to spoil a good kernel, and what the refusal must mention. */
    record Case(String name, byte[] file, String fragment) {}

    static final int PH = 64; // the minimal ELF's one program header
    static final long MIB = 1 << 20;

    static byte[] elf(Consumer<ByteBuffer> spoil) {
        byte[] f = X86LoaderTest.minimalElf(62, 2);
        spoil.accept(ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN));
        return f;
    }

    /** A bzImage that loads: protocol 2.15, 64-bit, loaded high, decompressing at 16 MiB. */
    static byte[] goodBzImage() {
        byte[] f = X86LoaderTest.minimalBzImage(0x20f, 1);
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x1f4, (f.length - 5 * 512) / 16).putLong(0x258, 16 * MIB).putInt(0x260, (int) MIB)
                .putInt(0x22c, 0x7fffffff);
        return f;
    }

    static byte[] bz(Consumer<ByteBuffer> spoil) {
        byte[] f = goodBzImage();
        spoil.accept(ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN));
        return f;
    }

    static List<Case> elfCases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case("e_phoff wraps past 2^63", elf(b -> b.putLong(32, Long.MAX_VALUE - 10)), "program headers"));
        c.add(new Case("e_phoff negative", elf(b -> b.putLong(32, -1)), "program headers"));
        c.add(new Case("e_phoff 1 TiB", elf(b -> b.putLong(32, 1L << 40)), "program headers"));
        c.add(new Case("e_phnum 65535", elf(b -> b.putShort(56, (short) 0xffff)), "program headers"));
        c.add(new Case("e_phentsize 8", elf(b -> b.putShort(54, (short) 8)), "program headers"));
        c.add(new Case("e_phentsize 65535", elf(b -> b.putShort(54, (short) 0xffff)), "program headers"));
        c.add(new Case("p_offset -16", elf(b -> b.putLong(PH + 8, -16)), "outside the file"));
        c.add(new Case("p_offset wraps with p_filesz", elf(b -> b.putLong(PH + 8, Long.MAX_VALUE - 8)), "outside the file"));
        c.add(new Case("p_filesz 1 GiB", elf(b -> b.putLong(PH + 32, 1L << 30)), "outside the file"));
        c.add(new Case("p_filesz negative", elf(b -> b.putLong(PH + 32, -1)), "outside the file"));
        c.add(new Case("p_filesz above p_memsz", elf(b -> b.putLong(PH + 40, 8)), "inconsistent"));
        c.add(new Case("p_paddr on the zero page", elf(b -> b.putLong(PH + 24, 0x7000)), "zero page"));
        c.add(new Case("p_paddr on the page tables", elf(b -> b.putLong(PH + 24, 0x9000)), "page tables"));
        c.add(new Case("p_paddr on the command line", elf(b -> b.putLong(PH + 24, 0x20000)), "command line"));
        c.add(new Case("p_paddr on the ACPI tables", elf(b -> b.putLong(PH + 24, 0xe0000)), "ACPI tables"));
        c.add(new Case("p_paddr on the GDT", elf(b -> b.putLong(PH + 24, 0x400)), "GDT"));
        c.add(new Case("p_paddr 0, below the GDT", elf(b -> b.putLong(PH + 24, 0).putLong(PH + 40, 0x100)), "real-mode area"));
        c.add(new Case("segment runs from below 1 MiB into it", elf(b -> b.putLong(PH + 24, 0xff000).putLong(PH + 40, 0x2000)),
                "ACPI tables"));
        c.add(new Case("p_paddr negative", elf(b -> b.putLong(PH + 24, -4096)), "wraps"));
        c.add(new Case("p_paddr + p_memsz wraps", elf(b -> b.putLong(PH + 24, Long.MAX_VALUE - 0xfff)), "wraps"));
        c.add(new Case("p_memsz 2^63-1", elf(b -> b.putLong(PH + 40, Long.MAX_VALUE)), "wraps"));
        c.add(new Case("32-bit class", elf(b -> b.put(4, (byte) 1)), "not 64-bit"));
        c.add(new Case("big-endian", elf(b -> b.put(5, (byte) 2)), "little-endian"));
        c.add(new Case("machine aarch64", elf(b -> b.putShort(18, (short) 183)), "machine 183"));
        c.add(new Case("no PT_LOAD", elf(b -> b.putInt(PH, 4)), "no PT_LOAD"));
        c.add(new Case("no program headers", elf(b -> b.putShort(56, (short) 0)), "no PT_LOAD"));
        return c;
    }

    static List<Case> bzImageCases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case("protocol 2.11", bz(b -> b.putShort(0x206, (short) 0x20b)), "too old"));
        c.add(new Case("no XLF_KERNEL_64", bz(b -> b.putShort(0x236, (short) 0)), "no 64-bit entry"));
        c.add(new Case("not loaded high", bz(b -> b.put(0x211, (byte) 0)), "zImage"));
        c.add(new Case("setup_sects 200", bz(b -> b.put(0x1f1, (byte) 200)), "truncated"));
        c.add(new Case("setup_sects 255", bz(b -> b.put(0x1f1, (byte) 255)), "truncated"));
        c.add(new Case("syssize 2^32-1", bz(b -> b.putInt(0x1f4, -1)), "syssize"));
        c.add(new Case("syssize one paragraph past the file", bz(b -> b.putInt(0x1f4, (8192 - 2560) / 16 + 1)), "syssize"));
        c.add(new Case("pref_address 0", bz(b -> b.putLong(0x258, 0)), "pref_address"));
        c.add(new Case("pref_address on the zero page", bz(b -> b.putLong(0x258, 0x7000)), "pref_address"));
        c.add(new Case("pref_address below 1 MiB", bz(b -> b.putLong(0x258, 0x80000)), "pref_address"));
        c.add(new Case("pref_address 2^63-1", bz(b -> b.putLong(0x258, Long.MAX_VALUE)), "pref_address"));
        c.add(new Case("pref_address -1", bz(b -> b.putLong(0x258, -1)), "pref_address"));
        c.add(new Case("pref_address in the MMIO hole", bz(b -> b.putLong(0x258, 0xC000_0000L)), "MMIO hole"));
        c.add(new Case("init_size runs into the MMIO hole", bz(b -> b.putLong(0x258, 0xBFF0_0000L).putInt(0x260, 0x200000)),
                "MMIO hole"));
        c.add(new Case("init_size 4 GiB - 1", bz(b -> b.putInt(0x260, -1)), "init_size"));
        return c;
    }

    /** Refused in one line, by the parser or by the loader, with the file and guest memory untouched. */
    static void assertRefused(Case k, GuestMemory mem) {
        byte[] before = k.file().clone();
        byte[] low = mem.read(0, (int) MIB);
        KernelLoadException e = assertThrows(KernelLoadException.class,
                () -> X86Loader.load(mem, k.file(), null, "console=ttyS0", 0), k.name());
        assertTrue(e.getMessage().contains(k.fragment()), k.name() + ": '" + e.getMessage() + "' should mention '"
                + k.fragment() + "'");
        assertFalse(e.getMessage().contains("\n"), k.name() + ": one line");
        assertArrayEquals(before, k.file(), k.name() + ": the kernel's bytes are unchanged");
        assertArrayEquals(low, mem.read(0, (int) MIB), k.name() + ": nothing written below 1 MiB");
    }

    @Test
    void theUnspoiledKernelsLoad() throws Exception {
        GuestMemory mem = X86LoaderTest.memory(64);
        assertEquals("ELF vmlinux", X86Loader.load(mem, X86LoaderTest.minimalElf(62, 2), null, "", 0).format());
        assertInstanceOf(KernelImage.BzImage.class, KernelImage.parse(goodBzImage()));
        assertEquals(16 * MIB + MIB, X86Loader.load(X86LoaderTest.memory(64), goodBzImage(), null, "", 0).kernelEnd());
    }

    @Test
    void hostileElfHeadersAreEachRefusedInOneLine() {
        List<Case> cases = elfCases();
        GuestMemory mem = X86LoaderTest.memory(32);
        cases.forEach(k -> assertRefused(k, mem));
        assertEquals(26, cases.size(), "ELF corpus size, reported in the issue's closing note");
    }

    @Test
    void hostileBzImageHeadersAreEachRefusedInOneLine() {
        List<Case> cases = bzImageCases();
        GuestMemory mem = X86LoaderTest.memory(32);
        cases.forEach(k -> assertRefused(k, mem));
        assertEquals(15, cases.size(), "bzImage corpus size, reported in the issue's closing note");
    }

    @Test
    void kernelsThatDoNotFitGuestRamAreRefusedBeforeAnythingIsWritten() {
        GuestMemory mem = X86LoaderTest.memory(32);
        List<Case> cases = List.of(
                new Case("segment in the MMIO hole", elf(b -> b.putLong(PH + 24, 0xF000_0000L).putLong(24, 0xF000_0000L)),
                        "does not fit"),
                new Case("segment past the end of RAM", elf(b -> b.putLong(PH + 24, 1L << 36).putLong(24, 1L << 36)),
                        "does not fit"),
                new Case("segment across the end of RAM", elf(b -> b.putLong(PH + 24, 32 * MIB - 2048)
                        .putLong(24, 32 * MIB - 2048)), "does not fit"),
                new Case("entry outside the segments", elf(b -> b.putLong(24, 0x2000000)), "entry"),
                new Case("init_size past the end of RAM", bz(b -> b.putInt(0x260, (int) (64 * MIB))), "more memory"));
        for (Case k : cases) {
            byte[] kernelArea = mem.read(16 * MIB, 4096);
            assertRefused(k, mem);
            assertArrayEquals(kernelArea, mem.read(16 * MIB, 4096), k.name() + ": no segment written");
        }
    }

    /** Two PT_LOAD segments: a good one at 16 MiB, then one at {@code secondAt}. */
    static byte[] twoSegmentElf(long secondAt) {
        ByteBuffer b = ByteBuffer.allocate(64 + 2 * 56 + 32).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, X86LoaderTest.minimalElf(62, 2), 0, 64).putShort(56, (short) 2);
        for (int i = 0; i < 2; i++) {
            int o = 64 + 56 * i;
            b.putInt(o, KernelImage.PT_LOAD).putLong(o + 8, 176 + 16 * i).putLong(o + 24, i == 0 ? 16 * MIB : secondAt)
                    .putLong(o + 32, 16).putLong(o + 40, 4096);
        }
        b.put(176, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
        return b.array();
    }

    @Test
    void aBadSecondSegmentLeavesTheFirstUnwritten() throws Exception {
        GuestMemory mem = X86LoaderTest.memory(32);
        X86Loader.load(mem, twoSegmentElf(17 * MIB), null, "", 0); // the control loads
        assertEquals(1, mem.read8(16 * MIB));
        GuestMemory fresh = X86LoaderTest.memory(32);
        assertRefused(new Case("second segment in the MMIO hole", twoSegmentElf(0xF000_0000L), "does not fit"), fresh);
        assertEquals(0, fresh.read8(16 * MIB), "the first segment was not written");
    }

    @Test
    void kernelsAndInitrdsOverTheLimitAreRefusedBySizeBeforeReading() throws Exception {
        Path big = tmp.resolve("huge");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(3L << 30); // sparse: 3 GiB that would not fit a byte array
        }
        KernelLoadException e = assertThrows(KernelLoadException.class, () -> KernelFiles.readKernel(big));
        assertTrue(e.getMessage().contains("jvmm loads at most"), e.getMessage());
        e = assertThrows(KernelLoadException.class, () -> KernelFiles.readInitrd(big));
        assertTrue(e.getMessage().startsWith("initrd"), e.getMessage());
        e = assertThrows(KernelLoadException.class, () -> KernelFiles.readKernel(tmp.resolve("missing")));
        assertTrue(e.getMessage().contains("cannot read kernel"), e.getMessage());
        Path small = tmp.resolve("small");
        Files.write(small, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, KernelFiles.readKernel(small));
        assertEquals(3L << 30, Files.size(big), "the file is unchanged");
    }

    @Test
    void aFileOfManyReadPiecesComesBackWhole() throws Exception {
        byte[] content = new byte[5 * 64 * 1024 + 123]; // five whole 64 KiB pieces and a partial one
        new Random(7).nextBytes(content);
        Path kernel = tmp.resolve("pieces");
        Files.write(kernel, content);
        assertArrayEquals(content, KernelFiles.readKernel(kernel));
        Path empty = tmp.resolve("empty");
        Files.write(empty, new byte[0]);
        assertArrayEquals(new byte[0], KernelFiles.readInitrd(empty));
    }

    @Test
    void everyOverlapNamesTheStructure() {
        for (X86Layout.Reserved r : X86Layout.LOW_STRUCTURES) {
            assertTrue(X86Layout.reservedBelowHighMemory(r.start(), r.start() + 1).startsWith(r.name()), r.name());
        }
        assertEquals(null, X86Layout.reservedBelowHighMemory(MIB, 2 * MIB));
        assertEquals("the real-mode area below 1 MiB", X86Layout.reservedBelowHighMemory(0x30000, 0x30010));
    }
}
