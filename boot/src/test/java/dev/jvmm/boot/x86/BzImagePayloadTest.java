package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.Test;
import org.tukaani.xz.FilterOptions;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.X86Options;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BzImagePayloadTest {
    static final long KERNEL_AT = 0x1000000;

    @Test
    void theBuiltBzImageUnpacksToTheSegmentsOfTheBuiltVmlinux() throws Exception {
        byte[] bz = TestKernels.bzImage();
        assertEquals(BzImagePayload.Format.XZ, BzImagePayload.format(bz), "the project kernel is built with CONFIG_KERNEL_XZ");
        KernelImage.Elf unpacked = (KernelImage.Elf) KernelImage.parse(BzImagePayload.unpack(bz));
        KernelImage.Elf built = (KernelImage.Elf) KernelImage.parse(TestKernels.vmlinux());
        assertEquals(built.entry(), unpacked.entry());
        assertEquals(built.segments().size(), unpacked.segments().size());
        for (int i = 0; i < built.segments().size(); i++) {
            KernelImage.Segment b = built.segments().get(i);
            KernelImage.Segment u = unpacked.segments().get(i);
            assertEquals(b.physAddr(), u.physAddr());
            assertEquals(b.memSize(), u.memSize());
            assertEquals(b.fileSize(), u.fileSize());
            assertTrue(Arrays.equals(built.file(), b.fileOffset(), b.fileOffset() + b.fileSize(),
                    unpacked.file(), u.fileOffset(), u.fileOffset() + u.fileSize()), "segment " + i + " differs");
        }
        long loadable = 64 + 56L * unpacked.segments().size();
        for (KernelImage.Segment u : unpacked.segments()) {
            loadable += (u.fileSize() + 15) & ~15;
        }
        assertEquals(loadable, unpacked.file().length, "only the headers and the loadable bytes are kept");
    }

    @Test
    void gzipAndXzWithTheX86FilterUnpack() throws Exception {
        byte[] elf = elf(8192, 3);
        for (byte[] payload : List.of(gzip(elf), xz(elf))) {
            byte[] bz = bzImage(withSize(payload, elf.length));
            KernelImage.Elf out = (KernelImage.Elf) KernelImage.parse(BzImagePayload.unpack(bz));
            KernelImage.Segment s = out.segments().get(0);
            assertEquals(KERNEL_AT, s.physAddr());
            assertEquals(8192, s.memSize());
            assertArrayEquals(Arrays.copyOfRange(elf, 4096, 4096 + 4096),
                    Arrays.copyOfRange(out.file(), s.fileOffset(), s.fileOffset() + s.fileSize()));
        }
    }

    @Test
    void theLoaderPutsTheUnpackedKernelWhereTheDecompressorWouldAndKeepsTheSetupHeader() throws Exception {
        byte[] elf = elf(8192, 5);
        byte[] bz = bzImage(withSize(xz(elf), elf.length));
        GuestMemory mem = GuestMemory.heap(64 << 20);
        X86Loader.Loaded l = X86Loader.load(mem, bz, UnpackedKernel.of(BzImagePayload.unpack(bz)), null, "console=ttyS0", 0);
        assertEquals(KERNEL_AT + 0x40, l.entry().rip(), "the kernel proper's entry, not the decompressor's");
        assertTrue(l.format().endsWith("unpacked by jvmm"), l.format());
        byte[] loaded = new byte[4096];
        mem.read(KERNEL_AT, loaded, 0, loaded.length);
        assertArrayEquals(Arrays.copyOfRange(elf, 4096, 8192), loaded);
        assertEquals(0, mem.read8(KERNEL_AT + 4096 + 100), "memsz past filesz is zeroed");
        assertEquals(KernelImage.HDRS_MAGIC, mem.read32(X86Layout.ZERO_PAGE_START + 0x202));
        assertEquals(0x20f, mem.read16(X86Layout.ZERO_PAGE_START + 0x206), "the bzImage's own setup header");
        assertEquals(0, mem.read8(X86Loader.BZIMAGE_LOAD_ADDRESS), "the decompressor itself is not loaded");
    }

    @Test
    void theLoaderRefusesAnUnpackedKernelAwayFromPrefAddress() throws Exception {
        byte[] elf = elf(8192, 5);
        ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 24, KERNEL_AT + (2 << 20));
        byte[] bz = bzImage(withSize(gzip(elf), elf.length));
        GuestMemory mem = GuestMemory.heap(64 << 20);
        KernelLoadException e = assertThrows(KernelLoadException.class,
                () -> X86Loader.load(mem, bz, UnpackedKernel.of(elf), null, "", 0));
        assertTrue(e.getMessage().contains("pref_address"), e.getMessage());
    }

    @Test
    void aCorruptPayloadIsAClearError() throws Exception {
        byte[] elf = elf(8192, 7);
        byte[] payload = xz(elf);
        payload[payload.length / 2] ^= 0x55;
        KernelLoadException e = assertThrows(KernelLoadException.class,
                () -> BzImagePayload.unpack(bzImage(withSize(payload, elf.length))));
        assertTrue(e.getMessage().contains("xz-compressed kernel is corrupt"), e.getMessage());
    }

    @Test
    void aWrongAppendedSizeOrANonElfPayloadIsRefused() throws Exception {
        byte[] elf = elf(8192, 9);
        KernelLoadException size = assertThrows(KernelLoadException.class,
                () -> BzImagePayload.unpack(bzImage(withSize(gzip(elf), elf.length + 1))));
        assertTrue(size.getMessage().contains("the size after it says"), size.getMessage());
        byte[] notElf = new byte[4096];
        KernelLoadException kind = assertThrows(KernelLoadException.class,
                () -> BzImagePayload.unpack(bzImage(withSize(gzip(notElf), notElf.length))));
        assertTrue(kind.getMessage().contains("ELF"), kind.getMessage());
    }

    @Test
    void aPayloadThatUnpacksPastTheCapIsRefusedNotBuffered() throws Exception {
        byte[] zeros = new byte[4 << 20];
        byte[] bz = bzImage(withSize(gzip(zeros), zeros.length));
        KernelLoadException e = assertThrows(KernelLoadException.class, () -> BzImagePayload.unpack(bz, 1 << 20));
        assertTrue(e.getMessage().contains("more than 1 MiB"), e.getMessage());
    }

    @Test
    void formatsJvmmDoesNotUnpackAreNamedAndLeftToTheGuest() throws Exception {
        byte[] zstd = withSize(new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 1, 2, 3, 4}, 100);
        byte[] bz = bzImage(zstd);
        assertEquals(BzImagePayload.Format.ZSTD, BzImagePayload.format(bz));
        KernelLoadException e = assertThrows(KernelLoadException.class, () -> BzImagePayload.unpack(bz));
        assertTrue(e.getMessage().contains("zstd"), e.getMessage());
        assertNull(BzImagePayload.format(elf(8192, 1)), "an ELF has no payload");
        byte[] old = bzImage(zstd);
        old[0x206] = 0x07; // boot protocol 2.07: no payload fields
        assertNull(BzImagePayload.format(old));
        byte[] outside = bzImage(zstd);
        ByteBuffer.wrap(outside).order(ByteOrder.LITTLE_ENDIAN).putInt(0x24c, outside.length);
        assertNull(BzImagePayload.format(outside), "a payload past the file's end");
    }

    /** A 64-bit ELF: header, one PT_LOAD (file 4096 bytes at offset 4096, memsz {@code memsz}) at 16 MiB, entry +0x40. */
    static byte[] elf(int memsz, int seed) {
        ByteBuffer b = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1).putLong(24, KERNEL_AT + 0x40)
                .putLong(32, 64).putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) 1);
        b.putInt(64, 1).putInt(68, 7).putLong(72, 4096).putLong(80, 0xffffffff81000000L).putLong(88, KERNEL_AT)
                .putLong(96, 4096).putLong(104, memsz).putLong(112, 0x200000);
        byte[] code = new byte[4096];
        new Random(seed).nextBytes(code);
        for (int i = 0; i < code.length; i += 5) {
            code[i] = (byte) 0xe8; // calls: what the x86 BCJ filter rewrites
        }
        b.put(4096, code);
        return b.array();
    }

    /** A bzImage of boot protocol 2.15 whose protected-mode part is just {@code payload}. */
    static byte[] bzImage(byte[] payload) {
        int pm = 2 * 512; // setup_sects 1
        ByteBuffer b = ByteBuffer.allocate(pm + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1f1, (byte) 1).putInt(0x1f4, payload.length / 16).put(0x201, (byte) 0x66)
                .putInt(0x202, KernelImage.HDRS_MAGIC).putShort(0x206, (short) 0x20f).put(0x211, (byte) 1)
                .putInt(0x22c, 0x7fffffff).putShort(0x236, (short) 1).putInt(0x238, 2048)
                .putInt(0x248, 0).putInt(0x24c, payload.length).putLong(0x258, KERNEL_AT).putInt(0x260, 4 << 20);
        b.put(pm, payload);
        return b.array();
    }

    static byte[] withSize(byte[] compressed, int size) {
        byte[] out = Arrays.copyOf(compressed, compressed.length + 4);
        ByteBuffer.wrap(out, compressed.length, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(size);
        return out;
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    /** As the kernel's build makes it: x86 BCJ, then LZMA2, CRC32 check. */
    static byte[] xz(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (XZOutputStream z = new XZOutputStream(out, new FilterOptions[] {new X86Options(), new LZMA2Options()},
                XZ.CHECK_CRC32)) {
            z.write(data);
        }
        return out.toByteArray();
    }
}
