package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** A parsed x86_64 Linux kernel: ELF vmlinux or bzImage. Parsing checks everything it trusts. */
public sealed interface KernelImage permits KernelImage.Elf, KernelImage.BzImage {

    /** One PT_LOAD segment of a vmlinux. */
    record Segment(long physAddr, int fileOffset, int fileSize, long memSize) {}

    /** ELF vmlinux: PT_LOAD segments go to their physical addresses; entry is the 64-bit entry. */
    record Elf(byte[] file, List<Segment> segments, long entry) implements KernelImage {}

    /**
     * bzImage: the setup header (copied into the zero page), and the protected-mode part, loaded
     * at 1 MiB; its 64-bit entry is 0x200 past its start.
     */
    record BzImage(byte[] file, int protectedModeOffset, int protocolVersion, int cmdlineSize, long initrdAddrMax,
                   long prefAddress, long initSize) implements KernelImage {}

    int ELF_MAGIC = 0x464c457f;
    int HDRS_MAGIC = 0x53726448;
    int EM_X86_64 = 62;
    int PT_LOAD = 1;

    /** Whether {@code k} (its first bytes suffice) is an ELF for x86-64 (e_machine 62) or a bzImage ("HdrS" at 0x202). */
    static boolean recognises(byte[] k) {
        boolean elf = k.length >= 20 && k[0] == 0x7f && k[1] == 'E' && k[2] == 'L' && k[3] == 'F' && k[18] == EM_X86_64 && k[19] == 0;
        boolean bz = k.length >= 0x206 && k[0x202] == 'H' && k[0x203] == 'd' && k[0x204] == 'r' && k[0x205] == 'S';
        return elf || bz;
    }

    static KernelImage parse(byte[] file) throws KernelLoadException {
        if (file.length < 64) {
            throw new KernelLoadException("kernel file is too small (" + file.length + " bytes) to be a kernel");
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) == ELF_MAGIC) {
            return parseElf(b, file);
        }
        if (file.length > 0x264 && b.getInt(0x202) == HDRS_MAGIC) {
            return parseBzImage(b, file);
        }
        throw new KernelLoadException("not an x86_64 Linux kernel: neither ELF nor bzImage (no 'HdrS' setup header)");
    }

    private static Elf parseElf(ByteBuffer b, byte[] file) throws KernelLoadException {
        return parseElf(b, file.length, file);
    }

    /**
     * An ELF kernel from its headers alone: {@code b} holds the file's first bytes, at least up to
     * the end of its program headers; {@code fileLength} is the whole file's, which every segment
     * must lie within. {@code file} is the whole file, or null where it stays on disk.
     */
    static Elf parseElf(ByteBuffer b, long fileLength, byte[] file) throws KernelLoadException {
        if (b.capacity() < 64) {
            throw new KernelLoadException("ELF kernel is too short for its header");
        }
        if (b.get(4) != 2) {
            throw new KernelLoadException("ELF kernel is not 64-bit (EI_CLASS " + b.get(4) + ")");
        }
        if (b.get(5) != 1) {
            throw new KernelLoadException("ELF kernel is not little-endian");
        }
        int machine = b.getShort(18) & 0xffff;
        if (machine != EM_X86_64) {
            throw new KernelLoadException("ELF kernel is for machine " + machine + ", not x86_64 (62)");
        }
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = b.getShort(54) & 0xffff;
        int phnum = b.getShort(56) & 0xffff;
        // Compared without adding to the hostile 64-bit offset, so no sum can wrap past a check.
        if (phentsize < 56 || phoff < 0 || phoff > b.capacity() || (long) phnum * phentsize > b.capacity() - phoff) {
            throw new KernelLoadException("ELF program headers lie outside the file");
        }
        List<Segment> segments = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int o = (int) (phoff + (long) i * phentsize);
            if (b.getInt(o) != PT_LOAD) {
                continue;
            }
            long offset = b.getLong(o + 8);
            long paddr = b.getLong(o + 24);
            long filesz = b.getLong(o + 32);
            long memsz = b.getLong(o + 40);
            if (offset < 0 || filesz < 0 || offset > fileLength || filesz > fileLength - offset || filesz > memsz) {
                throw new KernelLoadException("ELF segment " + i + " lies outside the file or is inconsistent");
            }
            if (paddr < 0 || memsz > Long.MAX_VALUE - paddr) {
                throw new KernelLoadException(String.format("ELF segment %d at 0x%x of %d bytes wraps the address space",
                        i, paddr, memsz));
            }
            String below = X86Layout.reservedBelowHighMemory(paddr, paddr + memsz);
            if (below != null) {
                throw new KernelLoadException(String.format("ELF segment %d at 0x%x-0x%x overlaps %s; a kernel loads at 1 MiB "
                        + "or above", i, paddr, paddr + memsz, below));
            }
            segments.add(new Segment(paddr, (int) offset, (int) filesz, memsz));
        }
        if (segments.isEmpty()) {
            throw new KernelLoadException("ELF kernel has no PT_LOAD segment");
        }
        return new Elf(file, List.copyOf(segments), entry);
    }

    private static BzImage parseBzImage(ByteBuffer b, byte[] file) throws KernelLoadException {
        int version = b.getShort(0x206) & 0xffff;
        if (version < 0x20c) {
            throw new KernelLoadException(String.format(
                    "bzImage boot protocol %d.%02d is too old: the 64-bit entry needs 2.12 or later",
                    version >> 8, version & 0xff));
        }
        int xloadflags = b.getShort(0x236) & 0xffff;
        if ((xloadflags & 1) == 0) {
            throw new KernelLoadException("bzImage has no 64-bit entry point (XLF_KERNEL_64 not set)");
        }
        if ((b.get(0x211) & 1) == 0) {
            throw new KernelLoadException("bzImage is a zImage (not loaded high); not supported");
        }
        int setupSects = b.get(0x1f1) & 0xff;
        if (setupSects == 0) {
            setupSects = 4;
        }
        int pmOffset = (setupSects + 1) * 512;
        if (pmOffset >= file.length) {
            throw new KernelLoadException("bzImage is truncated: setup is " + pmOffset + " bytes, file " + file.length);
        }
        long sysBytes = (b.getInt(0x1f4) & 0xffffffffL) * 16;
        if (sysBytes > file.length - pmOffset) {
            throw new KernelLoadException("bzImage is truncated: syssize says " + sysBytes + " bytes of protected-mode code, "
                    + "the file holds " + (file.length - pmOffset));
        }
        int cmdlineSize = b.getInt(0x238);
        long initrdMax = b.getInt(0x22c) & 0xffffffffL;
        long pref = b.getLong(0x258);
        long initSize = b.getInt(0x260) & 0xffffffffL;
        // The decompressor works in [pref_address, pref_address + init_size): it must be RAM jvmm does not use.
        if (pref < X86Layout.HIGH_MEMORY_START || pref >= X86Layout.MMIO_GAP_START
                || initSize > X86Layout.MMIO_GAP_START - pref) {
            throw new KernelLoadException(String.format("bzImage pref_address 0x%x with init_size 0x%x does not lie between "
                    + "1 MiB (jvmm's boot structures are below) and the MMIO hole at 0x%x", pref, initSize,
                    X86Layout.MMIO_GAP_START));
        }
        return new BzImage(file, pmOffset, version, cmdlineSize, initrdMax, pref, initSize);
    }
}
