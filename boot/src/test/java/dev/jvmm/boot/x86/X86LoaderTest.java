package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.x86.LongModeEntry;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class X86LoaderTest {
    static final String CMDLINE = "console=ttyS0 panic=1";

    static GuestMemory memory(int mib) {
        return GuestMemory.heap(X86Layout.ramRegions((long) mib << 20));
    }

    @Test
    void loadsTheBuiltVmlinuxAtItsPhysicalAddresses() throws Exception {
        byte[] file = TestKernels.vmlinux();
        KernelImage.Elf elf = assertInstanceOf(KernelImage.Elf.class, KernelImage.parse(file));
        assertEquals(0x1000000L, elf.entry(), "phys_startup_64 at 16 MiB");
        GuestMemory mem = memory(256);
        X86Loader.Loaded l = X86Loader.load(mem, file, null, CMDLINE, 0xe0000);
        KernelImage.Segment first = elf.segments().get(0);
        assertArrayEquals(Arrays.copyOfRange(file, first.fileOffset(), first.fileOffset() + 4096),
                mem.read(first.physAddr(), 4096), "first segment copied to its p_paddr");
        KernelImage.Segment last = elf.segments().get(elf.segments().size() - 1);
        if (last.memSize() > last.fileSize()) {
            assertEquals(0, mem.read64(last.physAddr() + last.fileSize()), "bss zeroed");
        }
        assertEquals(elf.entry(), l.entry().rip());
        checkZeroPage(mem, l);
        assertEquals(0xaa55, mem.read16(X86Layout.ZERO_PAGE_START + 0x1fe));
        assertEquals(KernelImage.HDRS_MAGIC, (int) mem.read32(X86Layout.ZERO_PAGE_START + 0x202));
    }

    @Test
    void loadsTheBuiltBzImageProtectedModePartAt1MiB() throws Exception {
        byte[] file = TestKernels.bzImage();
        KernelImage.BzImage bz = assertInstanceOf(KernelImage.BzImage.class, KernelImage.parse(file));
        assertTrue(bz.protocolVersion() >= 0x20f, "6.1 speaks boot protocol 2.15");
        GuestMemory mem = memory(256);
        byte[] initrd = new byte[100_000];
        Arrays.fill(initrd, (byte) 0x5a);
        X86Loader.Loaded l = X86Loader.load(mem, file, initrd, CMDLINE, 0xe0000);
        assertEquals(X86Loader.BZIMAGE_LOAD_ADDRESS + 0x200, l.entry().rip(), "64-bit entry is startup_64 at +0x200");
        assertArrayEquals(Arrays.copyOfRange(file, bz.protectedModeOffset(), bz.protectedModeOffset() + 512),
                mem.read(X86Loader.BZIMAGE_LOAD_ADDRESS, 512));
        long zp = X86Layout.ZERO_PAGE_START;
        // The setup header is the kernel's own, with the loader's fields filled in.
        assertEquals(file[0x1f1], (byte) mem.read8(zp + 0x1f1), "setup_sects copied");
        assertEquals(bz.protocolVersion(), mem.read16(zp + 0x206));
        assertEquals(0xff, mem.read8(zp + 0x210), "type_of_loader: undefined");
        assertEquals(0x81, mem.read8(zp + 0x211) & 0x81, "LOADED_HIGH and CAN_USE_HEAP");
        checkZeroPage(mem, l);
        long initrdAt = mem.read32(zp + 0x218);
        assertEquals(initrd.length, mem.read32(zp + 0x21c));
        assertEquals(0, initrdAt % 4096, "initrd page-aligned");
        assertTrue(initrdAt + initrd.length <= (256L << 20), "initrd inside RAM");
        assertTrue(initrdAt + initrd.length <= bz.initrdAddrMax() + 1, "initrd below initrd_addr_max");
        assertTrue(initrdAt >= l.kernelEnd(), "initrd above the kernel's init_size");
        assertArrayEquals(initrd, mem.read(initrdAt, initrd.length));
    }

    private static void checkZeroPage(GuestMemory mem, X86Loader.Loaded l) {
        long zp = X86Layout.ZERO_PAGE_START;
        assertEquals(X86Layout.CMDLINE_START, mem.read32(zp + 0x228), "cmd_line_ptr");
        byte[] cmd = mem.read(X86Layout.CMDLINE_START, CMDLINE.length() + 1);
        assertEquals(CMDLINE, new String(cmd, 0, CMDLINE.length(), StandardCharsets.US_ASCII));
        assertEquals(0, cmd[CMDLINE.length()], "NUL-terminated");
        assertEquals(0xe0000L, mem.read64(zp + 0x70), "acpi_rsdp_addr");
        // e820: low RAM below the EBDA, then 1 MiB to the end of RAM; the BIOS area stays reserved.
        assertEquals(2, mem.read8(zp + 0x1e8));
        long e = zp + 0x2d0;
        assertEquals(0, mem.read64(e));
        assertEquals(X86Layout.EBDA_START, mem.read64(e + 8));
        assertEquals(E820.RAM, mem.read32(e + 16));
        assertEquals(0x100000, mem.read64(e + 20));
        assertEquals((256L << 20) - 0x100000, mem.read64(e + 28));
        LongModeEntry entry = l.entry();
        assertEquals(X86Layout.ZERO_PAGE_START, entry.rsi());
        assertEquals(X86Layout.PML4_START, entry.pml4());
        assertEquals(X86Layout.PDPTE_START | 3, mem.read64(X86Layout.PML4_START));
    }

    @Test
    void e820SplitsMemoryAroundTheMmioHole() {
        var entries = E820.forRam(X86Layout.ramRegions(4L << 30));
        assertEquals(3, entries.size());
        assertEquals(new E820.Entry(0x100000, X86Layout.MMIO_GAP_START - 0x100000, E820.RAM), entries.get(1));
        assertEquals(new E820.Entry(1L << 32, 1L << 30, E820.RAM), entries.get(2));
    }

    @Test
    void pageTablesIdentityMapTheFirstGigabyte() {
        GuestMemory mem = memory(32);
        PageTables.writeIdentity1G(mem);
        assertEquals(X86Layout.PDE_START | 3, mem.read64(X86Layout.PDPTE_START));
        for (int i : new int[] {0, 1, 8, 511}) {
            assertEquals(((long) i << 21) | 0x83, mem.read64(X86Layout.PDE_START + 8L * i), "PDE " + i);
        }
    }

    @Test
    void gdtEntriesMatchFirecrackers() {
        assertEquals(0x00af9b000000ffffL, Gdt.ENTRIES[1], "64-bit code");
        assertEquals(0x00cf93000000ffffL, Gdt.ENTRIES[2], "data");
        assertEquals(0x008f8b000000ffffL, Gdt.ENTRIES[3], "TSS");
    }

    // ---- bad input: one clear error each, nothing written past what was validated

    @Test
    void rejectsFilesThatAreNotKernels() {
        assertMessage("too small", new byte[10]);
        assertMessage("neither ELF nor bzImage", new byte[4096]);
    }

    @Test
    void rejectsForeignOrBrokenElf() {
        byte[] elf = minimalElf(62, 2);
        elf[4] = 1;
        assertMessage("not 64-bit", elf);
        assertMessage("machine 183", minimalElf(183, 2));
        byte[] bad = minimalElf(62, 2);
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putLong(32, 1L << 40); // e_phoff
        assertMessage("program headers lie outside", bad);
        byte[] seg = minimalElf(62, 2);
        ByteBuffer.wrap(seg).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 32, 1L << 30); // p_filesz
        assertMessage("outside the file", seg);
    }

    @Test
    void rejectsSegmentsOutsideGuestRam() {
        byte[] elf = minimalElf(62, 2);
        ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 24, 0xF000_0000L); // p_paddr in the hole
        KernelLoadException e = assertThrows(KernelLoadException.class,
                () -> X86Loader.load(memory(32), elf, null, "", 0));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
    }

    @Test
    void rejectsOldOrTruncatedBzImages() {
        byte[] bz = minimalBzImage(0x20b, 1);
        assertMessage("too old", bz);
        assertMessage("no 64-bit entry", minimalBzImage(0x20f, 0));
        byte[] trunc = minimalBzImage(0x20f, 1);
        trunc[0x1f1] = (byte) 200;
        assertMessage("truncated", trunc);
    }

    @Test
    void rejectsOverlongCommandLineAndOversizedInitrd() throws Exception {
        byte[] elf = minimalElf(62, 2);
        KernelLoadException e = assertThrows(KernelLoadException.class,
                () -> X86Loader.load(memory(32), elf, null, "x".repeat(3000), 0));
        assertTrue(e.getMessage().contains("command line"), e.getMessage());
        e = assertThrows(KernelLoadException.class,
                () -> X86Loader.load(memory(32), elf, new byte[40 << 20], "", 0));
        assertTrue(e.getMessage().contains("initrd"), e.getMessage());
    }

    static void assertMessage(String fragment, byte[] file) {
        KernelLoadException e = assertThrows(KernelLoadException.class, () -> KernelImage.parse(file));
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should mention '" + fragment + "'");
    }

    /** A 64-bit ELF with one PT_LOAD segment of 16 bytes at 16 MiB, entry at its start. */
    static byte[] minimalElf(int machine, int elfClass) {
        ByteBuffer b = ByteBuffer.allocate(64 + 56 + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, KernelImage.ELF_MAGIC).put(4, (byte) elfClass).put(5, (byte) 1);
        b.putShort(16, (short) 2).putShort(18, (short) machine).putLong(24, 0x1000000L).putLong(32, 64);
        b.putShort(54, (short) 56).putShort(56, (short) 1);
        b.putInt(64, KernelImage.PT_LOAD).putLong(64 + 8, 120).putLong(64 + 24, 0x1000000L)
                .putLong(64 + 32, 16).putLong(64 + 40, 4096);
        return b.array();
    }

    static byte[] minimalBzImage(int version, int xloadflags) {
        ByteBuffer b = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1f1, (byte) 4).putShort(0x1fe, (short) 0xaa55).putInt(0x202, KernelImage.HDRS_MAGIC);
        b.putShort(0x206, (short) version).put(0x211, (byte) 1).putShort(0x236, (short) xloadflags);
        return b.array();
    }
}
