package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.MemoryRegion;
import dev.jvmm.vmm.x86.LongModeEntry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Loads an x86_64 Linux kernel, its initrd and command line into guest memory, following the
 * Linux x86 boot protocol's 64-bit entry. Knows nothing of KVM: it returns the entry state.
 */
public final class X86Loader {
    /** Where a bzImage's protected-mode part goes (code32_start's traditional value). */
    public static final long BZIMAGE_LOAD_ADDRESS = 0x100000;
    private static final int DEFAULT_CMDLINE_SIZE = 2048;

    /** What was loaded where, for the timeline and for tests. */
    public record Loaded(LongModeEntry entry, String format, long kernelStart, long kernelEnd, long initrdAddress,
                         long initrdSize, String cmdline) {}

    private X86Loader() {}

    public static Loaded load(GuestMemory mem, byte[] kernelFile, byte[] initrd, String cmdline, long rsdpAddress)
            throws KernelLoadException {
        return load(mem, kernelFile, null, initrd, cmdline, rsdpAddress);
    }

    /**
     * As {@link #load(GuestMemory, byte[], byte[], String, long)}; {@code unpacked}, if not null,
     * is the kernel proper inside the bzImage {@code kernelFile} ({@link UnpackedKernel}): its
     * segments are loaded where the bzImage's decompressor would have put them, the zero page
     * still takes the bzImage's setup header, and the guest starts in the kernel proper.
     */
    public static Loaded load(GuestMemory mem, byte[] kernelFile, UnpackedKernel unpacked, byte[] initrd, String cmdline,
                              long rsdpAddress) throws KernelLoadException {
        KernelImage image = KernelImage.parse(kernelFile);
        ByteBuffer zeroPage = ByteBuffer.allocate(BootParams.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        long kernelStart;
        long kernelEnd;
        long rip;
        int cmdlineMax;
        long initrdMax;
        String format;
        if (image instanceof KernelImage.Elf elf) {
            format = "ELF vmlinux";
            long[] span = checkSegments(mem, elf.segments(), elf.entry());
            kernelStart = span[0];
            kernelEnd = span[1];
            rip = elf.entry();
            writeSegments(mem, elf);
            cmdlineMax = DEFAULT_CMDLINE_SIZE;
            initrdMax = 0x37ffffffL;
            zeroPage.putShort(BootParams.BOOT_FLAG, (short) 0xaa55);
            zeroPage.putInt(BootParams.HEADER, KernelImage.HDRS_MAGIC);
            zeroPage.putInt(BootParams.KERNEL_ALIGNMENT, 0x01000000);
        } else {
            KernelImage.BzImage bz = (KernelImage.BzImage) image;
            int minor = bz.protocolVersion() & 0xff; // not String.format: its first use parses with regexes
            format = "bzImage (boot protocol " + (bz.protocolVersion() >> 8) + "." + (minor < 10 ? "0" : "") + minor + ")";
            int pmSize = bz.file().length - bz.protectedModeOffset();
            if (unpacked != null) {
                checkUnpacked(unpacked, bz);
            }
            kernelStart = unpacked == null ? BZIMAGE_LOAD_ADDRESS : bz.prefAddress();
            // The decompressor works in place up to init_size from the preferred address; the
            // kernel proper also counts on that room (its brk and early page tables lie in it).
            kernelEnd = Math.max(unpacked == null ? kernelStart + pmSize : kernelStart, bz.prefAddress() + bz.initSize());
            checkRoom(mem, kernelStart, kernelEnd);
            if (unpacked == null) {
                mem.write(kernelStart, bz.file(), bz.protectedModeOffset(), pmSize);
                rip = kernelStart + 0x200;
            } else {
                kernelEnd = Math.max(kernelEnd, checkSegments(mem, unpacked.segments(), unpacked.entry())[1]);
                unpacked.writeTo(mem);
                zeroTails(mem, unpacked.segments());
                rip = unpacked.entry();
                format += ", unpacked by jvmm";
            }
            // Copy the kernel's setup header (0x1f1 up to the end given by the jump at 0x201).
            int headerEnd = 0x202 + (bz.file()[0x201] & 0xff);
            headerEnd = Math.min(Math.max(headerEnd, 0x264), Math.min(bz.file().length, BootParams.SIZE));
            zeroPage.put(BootParams.SETUP_HEADER, bz.file(), BootParams.SETUP_HEADER, headerEnd - BootParams.SETUP_HEADER);
            cmdlineMax = bz.cmdlineSize() > 0 ? bz.cmdlineSize() : DEFAULT_CMDLINE_SIZE;
            initrdMax = bz.initrdAddrMax();
        }
        zeroPage.put(BootParams.TYPE_OF_LOADER, (byte) BootParams.LOADER_UNDEFINED);
        zeroPage.put(BootParams.LOADFLAGS, (byte) ((zeroPage.get(BootParams.LOADFLAGS) | BootParams.CAN_USE_HEAP
                | 0x01) & ~BootParams.KEEP_SEGMENTS));
        zeroPage.putShort(BootParams.HEAP_END_PTR, (short) 0xfe00);

        byte[] cmd = cmdline.getBytes(StandardCharsets.US_ASCII);
        if (cmd.length + 1 > Math.min(cmdlineMax, X86Layout.CMDLINE_MAX)) {
            throw new KernelLoadException("kernel command line is " + cmd.length + " bytes; this kernel takes at most "
                    + (Math.min(cmdlineMax, X86Layout.CMDLINE_MAX) - 1));
        }
        mem.write(X86Layout.CMDLINE_START, cmd);
        mem.write8(X86Layout.CMDLINE_START + cmd.length, 0);
        zeroPage.putInt(BootParams.CMD_LINE_PTR, (int) X86Layout.CMDLINE_START);
        zeroPage.putInt(BootParams.CMDLINE_SIZE, cmd.length + 1);

        long initrdAddress = 0;
        if (initrd != null && initrd.length > 0) {
            initrdAddress = placeInitrd(mem, initrd.length, initrdMax, kernelEnd);
            mem.write(initrdAddress, initrd);
            zeroPage.putInt(BootParams.RAMDISK_IMAGE, (int) initrdAddress);
            zeroPage.putInt(BootParams.RAMDISK_SIZE, initrd.length);
            zeroPage.putInt(BootParams.EXT_RAMDISK_IMAGE, (int) (initrdAddress >>> 32));
            zeroPage.putInt(BootParams.EXT_RAMDISK_SIZE, 0);
        }

        List<E820.Entry> e820 = E820.forRam(mem.regions());
        zeroPage.put(BootParams.E820_ENTRIES, (byte) e820.size());
        for (int i = 0; i < e820.size(); i++) {
            int o = BootParams.E820_TABLE + i * 20;
            zeroPage.putLong(o, e820.get(i).address()).putLong(o + 8, e820.get(i).size()).putInt(o + 16, e820.get(i).type());
        }
        if (rsdpAddress != 0) {
            zeroPage.putLong(BootParams.ACPI_RSDP_ADDR, rsdpAddress);
        }
        mem.write(X86Layout.ZERO_PAGE_START, zeroPage.array());

        int gdtLimit = Gdt.write(mem);
        long pml4 = PageTables.writeIdentity1G(mem);
        LongModeEntry entry = new LongModeEntry(rip, X86Layout.ZERO_PAGE_START, X86Layout.BOOT_STACK_POINTER,
                X86Layout.GDT_START, gdtLimit, X86Layout.IDT_START, 7, pml4);
        return new Loaded(entry, format, kernelStart, kernelEnd, initrdAddress, initrd == null ? 0 : initrd.length, cmdline);
    }

    /**
     * The vmlinux inside a bzImage, checked against the bzImage's header: it must start where the
     * decompressor would have put it (pref_address) and stay within init_size of there.
     */
    /** Guest RAM from {@code start} up to {@code end}, the decompressor's and kernel's room (init_size). */
    private static void checkRoom(GuestMemory mem, long start, long end) throws KernelLoadException {
        if (!mem.contains(start, end - start)) {
            throw new KernelLoadException(String.format(
                    "kernel needs guest memory up to 0x%x (init_size); give the guest more memory", end));
        }
    }

    /** An unpacked kernel's room, as {@link #load} checks it: init_size from pref_address. */
    static void checkInitSize(GuestMemory mem, KernelImage.BzImage bz) throws KernelLoadException {
        checkRoom(mem, bz.prefAddress(), bz.prefAddress() + bz.initSize());
    }

    static void checkUnpacked(UnpackedKernel unpacked, KernelImage.BzImage bz) throws KernelLoadException {
        long start = Long.MAX_VALUE;
        long end = 0;
        for (KernelImage.Segment s : unpacked.segments()) {
            start = Math.min(start, s.physAddr());
            end = Math.max(end, s.physAddr() + s.memSize());
        }
        if (start != bz.prefAddress() || end - start > bz.initSize()) {
            throw new KernelLoadException(String.format("the unpacked kernel spans 0x%x-0x%x, not the bzImage's "
                    + "pref_address 0x%x and init_size 0x%x", start, end, bz.prefAddress(), bz.initSize()));
        }
    }

    /**
     * {start, end} of an ELF kernel's segments, each checked to fit in guest memory, and its entry
     * checked to lie inside them: all before any is written, so a refused kernel leaves memory as it was.
     */
    static long[] checkSegments(GuestMemory mem, List<KernelImage.Segment> segments, long entry)
            throws KernelLoadException {
        long start = Long.MAX_VALUE;
        long end = 0;
        for (KernelImage.Segment s : segments) {
            if (!mem.contains(s.physAddr(), s.memSize())) {
                throw new KernelLoadException(String.format("kernel segment at 0x%x (%d bytes) does not fit in guest "
                        + "memory (RAM below the MMIO hole at 0x%x, then from 4 GiB)", s.physAddr(), s.memSize(),
                        X86Layout.MMIO_GAP_START));
            }
            start = Math.min(start, s.physAddr());
            end = Math.max(end, s.physAddr() + s.memSize());
        }
        if (entry < start || entry >= end) {
            throw new KernelLoadException(String.format("ELF entry 0x%x is outside the loaded segments", entry));
        }
        return new long[] {start, end};
    }

    private static void writeSegments(GuestMemory mem, KernelImage.Elf elf) {
        for (KernelImage.Segment s : elf.segments()) {
            mem.write(s.physAddr(), elf.file(), s.fileOffset(), s.fileSize());
        }
        zeroTails(mem, elf.segments());
    }

    /** Each segment's memory past its file bytes (.bss) is zero. */
    private static void zeroTails(GuestMemory mem, List<KernelImage.Segment> segments) {
        for (KernelImage.Segment s : segments) {
            mem.fill(s.physAddr() + s.fileSize(), s.memSize() - s.fileSize(), (byte) 0);
        }
    }

    /** Highest page-aligned address below low memory's end and initrd_addr_max, above the kernel. */
    static long placeInitrd(GuestMemory mem, long size, long initrdAddrMax, long kernelEnd) throws KernelLoadException {
        MemoryRegion low = mem.regions().get(0);
        long top = Math.min(low.end(), initrdAddrMax + 1);
        long address = (top - size) & ~0xfffL;
        if (address < kernelEnd || size > top) {
            throw new KernelLoadException(String.format(
                    "initrd of %d bytes does not fit between the kernel's end (0x%x) and 0x%x; give the guest more memory",
                    size, kernelEnd, top));
        }
        return address;
    }
}
