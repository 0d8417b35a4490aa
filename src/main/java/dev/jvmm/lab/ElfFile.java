package dev.jvmm.lab;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The little of an ELF64 file the arm64 lab needs to know which shared libraries to pack: its
 * machine, its program interpreter and its DT_NEEDED names. The host's {@code ldd} runs the
 * host's loader and cannot answer for arm64 files, so the lab reads the dynamic section itself.
 * Reads only what the program headers point at, with every offset checked against the file.
 */
record ElfFile(int machine, String interpreter, List<String> needed) {
    static final int EM_X86_64 = 62;
    static final int EM_AARCH64 = 183;
    private static final int PT_LOAD = 1;
    private static final int PT_DYNAMIC = 2;
    private static final int PT_INTERP = 3;
    private static final long DT_NULL = 0;
    private static final long DT_NEEDED = 1;
    private static final long DT_STRTAB = 5;
    /** Larger program header tables or dynamic sections than this are not a shared library's. */
    private static final int MAX_ENTRIES = 4096;

    static ElfFile read(Path file) throws IOException {
        return parse(Files.readAllBytes(file), file.toString());
    }

    /** Parses a little-endian ELF64 file; anything else is an IOException naming {@code what}. */
    static ElfFile parse(byte[] bytes, String what) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 64 || b.getInt(0) != 0x464c457f || bytes[4] != 2 || bytes[5] != 1) {
            throw new IOException(what + " is not a little-endian 64-bit ELF file");
        }
        int machine = Short.toUnsignedInt(b.getShort(18));
        long phoff = b.getLong(32);
        int phentsize = Short.toUnsignedInt(b.getShort(54));
        int phnum = Short.toUnsignedInt(b.getShort(56));
        if (phnum > MAX_ENTRIES || phentsize < 56) {
            throw new IOException(what + ": implausible program header table (" + phnum + " x " + phentsize + ")");
        }
        List<long[]> loads = new ArrayList<>(); // {vaddr, offset, filesz}
        long dynOff = -1;
        long dynSize = 0;
        String interp = null;
        for (int i = 0; i < phnum; i++) {
            int h = checked(phoff + (long) i * phentsize, 56, bytes.length, what);
            int type = b.getInt(h);
            long offset = b.getLong(h + 8);
            long vaddr = b.getLong(h + 16);
            long filesz = b.getLong(h + 32);
            switch (type) {
                case PT_LOAD -> loads.add(new long[] {vaddr, offset, filesz});
                case PT_DYNAMIC -> {
                    dynOff = offset;
                    dynSize = filesz;
                }
                case PT_INTERP -> {
                    int at = checked(offset, filesz, bytes.length, what);
                    interp = cString(bytes, at, (int) filesz);
                }
                default -> { }
            }
        }
        List<String> needed = new ArrayList<>();
        if (dynOff >= 0) {
            int at = checked(dynOff, dynSize, bytes.length, what);
            long strtab = -1;
            List<Long> names = new ArrayList<>();
            for (int i = 0; i < Math.min(dynSize / 16, MAX_ENTRIES); i++) {
                long tag = b.getLong(at + 16 * i);
                long val = b.getLong(at + 16 * i + 8);
                if (tag == DT_NULL) {
                    break;
                } else if (tag == DT_NEEDED) {
                    names.add(val);
                } else if (tag == DT_STRTAB) {
                    strtab = val;
                }
            }
            if (!names.isEmpty()) {
                long strOff = fileOffset(loads, strtab);
                if (strOff < 0) {
                    throw new IOException(what + ": DT_STRTAB 0x" + Long.toHexString(strtab) + " lies in no loaded segment");
                }
                for (long n : names) {
                    int s = checked(strOff + n, 1, bytes.length, what);
                    needed.add(cString(bytes, s, bytes.length - s));
                }
            }
        }
        return new ElfFile(machine, interp, List.copyOf(needed));
    }

    private static long fileOffset(List<long[]> loads, long vaddr) {
        for (long[] l : loads) {
            if (vaddr >= l[0] && vaddr < l[0] + l[2]) {
                return l[1] + (vaddr - l[0]);
            }
        }
        return -1;
    }

    private static int checked(long offset, long length, int fileLength, String what) throws IOException {
        if (offset < 0 || length < 0 || offset > fileLength || length > fileLength - offset) {
            throw new IOException(what + ": ELF offset " + offset + "+" + length + " beyond the file (" + fileLength + " bytes)");
        }
        return (int) offset;
    }

    private static String cString(byte[] bytes, int at, int max) {
        int end = at;
        while (end < at + max && end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, at, end - at, StandardCharsets.UTF_8);
    }
}
