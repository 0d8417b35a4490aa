package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;
import org.tukaani.xz.SingleXZInputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.GZIPInputStream;

/**
 * A bzImage's compressed kernel (its "payload", boot protocol 2.08+), unpacked on the host. The
 * payload is the kernel's own ELF vmlinux, compressed; the bzImage's decompressor unpacks it in
 * the guest at every boot, which under xz is most of the guest's first second in the lab. A VMM
 * that loads the ELF itself skips that work, as Firecracker does when handed a vmlinux. Only the
 * formats a JVM reads without native code are unpacked (gzip, xz); the others are named, and left
 * to the guest.
 */
public final class BzImagePayload {
    /** Nothing a kernel needs comes near this; a payload that unpacks past it is refused, not buffered. */
    public static final int MAX_UNPACKED = 256 << 20;
    /** The xz decoder's memory limit: the kernel's build uses a dictionary of at most 32 MiB. */
    private static final int XZ_MEMORY_LIMIT_KIB = 64 << 10;
    private static final int PAYLOAD_OFFSET = 0x248;
    private static final int PAYLOAD_LENGTH = 0x24c;

    /** How the payload is compressed, by its magic bytes (the kernel's own list: CONFIG_KERNEL_*). */
    public enum Format {
        GZIP("gzip", true), XZ("xz", true), LZ4("lz4", false), ZSTD("zstd", false), BZIP2("bzip2", false),
        LZMA("lzma", false), LZO("lzo", false), UNKNOWN("an unknown format", false);

        private final String word;
        private final boolean unpackable;

        Format(String word, boolean unpackable) {
            this.word = word;
            this.unpackable = unpackable;
        }

        public String word() {
            return word;
        }

        /** Whether jvmm unpacks this format itself. */
        public boolean unpackable() {
            return unpackable;
        }
    }

    private BzImagePayload() {}

    /**
     * The payload's format, or null when {@code file} is not a bzImage with a payload jvmm could
     * load unpacked (an ELF, boot protocol before 2.08, a payload outside the file).
     */
    public static Format format(byte[] file) {
        int[] range = payloadRange(file);
        return range == null ? null : formatAt(file, range[0], range[1]);
    }

    /**
     * The ELF vmlinux inside {@code bzImage}. Refuses a payload that is corrupt, unpacks past
     * {@link #MAX_UNPACKED} or to something other than an x86_64 ELF, or whose size disagrees with
     * the size the build appended after it.
     */
    public static byte[] unpack(byte[] bzImage) throws KernelLoadException {
        return unpack(bzImage, MAX_UNPACKED);
    }

    static byte[] unpack(byte[] bzImage, int maxUnpacked) throws KernelLoadException {
        int[] range = payloadRange(bzImage);
        if (range == null) {
            throw new KernelLoadException("not a bzImage with a compressed kernel (boot protocol 2.08+) to unpack");
        }
        int offset = range[0];
        int length = range[1];
        Format format = formatAt(bzImage, offset, length);
        if (!format.unpackable()) {
            throw new KernelLoadException("bzImage's kernel is compressed with " + format.word()
                    + ", which jvmm does not unpack (gzip and xz it does)");
        }
        byte[] out;
        InputStream raw = new ByteArrayInputStream(bzImage, offset, length);
        try (InputStream in = format == Format.XZ ? new SingleXZInputStream(raw, XZ_MEMORY_LIMIT_KIB)
                : new GZIPInputStream(raw, 64 << 10)) {
            out = readBounded(in, maxUnpacked);
        } catch (IOException e) {
            throw new KernelLoadException("bzImage's " + format.word() + "-compressed kernel is corrupt: " + e.getMessage());
        }
        // The build appends the unpacked size (little-endian, 4 bytes) after the compressed data.
        long appended = ByteBuffer.wrap(bzImage, offset + length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt()
                & 0xffffffffL;
        if (appended != out.length) {
            throw new KernelLoadException("bzImage's compressed kernel unpacks to " + out.length
                    + " bytes, but the size after it says " + appended);
        }
        if (!(KernelImage.parse(out) instanceof KernelImage.Elf elf)) {
            throw new KernelLoadException("bzImage's compressed kernel does not unpack to an ELF vmlinux");
        }
        return compact(out, elf);
    }

    /**
     * The same kernel as an ELF of its loadable segments only: the ELF header, the PT_LOAD program
     * headers (each as it was but for its file offset), and their bytes back to back. A third
     * smaller than the build's vmlinux.bin, whose segments sit at 2 MiB file alignment: less to
     * read at every boot.
     */
    static byte[] compact(byte[] file, KernelImage.Elf elf) {
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long phoff = in.getLong(32);
        int phentsize = in.getShort(54) & 0xffff;
        int phnum = in.getShort(56) & 0xffff;
        int loads = elf.segments().size();
        int headers = ELF_HEADER + loads * PHDR;
        long size = headers;
        for (KernelImage.Segment seg : elf.segments()) {
            size += align16(seg.fileSize());
        }
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
        out.put(file, 0, 16); // e_ident as it was: ELF, 64-bit, little-endian
        out.putShort(16, in.getShort(16)).putShort(18, in.getShort(18)).putInt(20, in.getInt(20));
        out.putLong(24, elf.entry()).putLong(32, ELF_HEADER).putLong(40, 0).putInt(48, in.getInt(48));
        out.putShort(52, (short) ELF_HEADER).putShort(54, (short) PHDR).putShort(56, (short) loads);
        out.putShort(58, (short) 0).putShort(60, (short) 0).putShort(62, (short) 0); // no section headers
        int next = headers;
        int written = 0;
        for (int i = 0; i < phnum; i++) {
            int o = (int) (phoff + (long) i * phentsize);
            if (in.getInt(o) != KernelImage.PT_LOAD) {
                continue;
            }
            KernelImage.Segment seg = elf.segments().get(written);
            int h = ELF_HEADER + written * PHDR;
            out.put(h, file, o, PHDR);
            out.putLong(h + 8, next);
            out.put(next, file, seg.fileOffset(), seg.fileSize());
            next += align16(seg.fileSize());
            written++;
        }
        return out.array();
    }

    private static final int ELF_HEADER = 64;
    private static final int PHDR = 56;

    private static int align16(int n) {
        return (n + 15) & ~15;
    }

    private static byte[] readBounded(InputStream in, int max) throws IOException, KernelLoadException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 << 20);
        byte[] buf = new byte[64 << 10];
        int n;
        while ((n = in.read(buf)) > 0) {
            if (out.size() > max - n) {
                throw new KernelLoadException("bzImage's compressed kernel unpacks to more than " + (max >> 20)
                        + " MiB; refused");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** {offset, length} of the payload in the file, or null. */
    private static int[] payloadRange(byte[] file) {
        if (file.length < 0x264) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0x202) != KernelImage.HDRS_MAGIC || (b.getShort(0x206) & 0xffff) < 0x208) {
            return null;
        }
        int setupSects = b.get(0x1f1) & 0xff;
        long protectedMode = (long) ((setupSects == 0 ? 4 : setupSects) + 1) * 512;
        long offset = protectedMode + (b.getInt(PAYLOAD_OFFSET) & 0xffffffffL);
        long length = b.getInt(PAYLOAD_LENGTH) & 0xffffffffL;
        if (length < 8 || offset > file.length || length > file.length - offset) {
            return null;
        }
        return new int[] {(int) offset, (int) length};
    }

    private static Format formatAt(byte[] f, int o, int length) {
        int b0 = f[o] & 0xff;
        int b1 = f[o + 1] & 0xff;
        int b2 = f[o + 2] & 0xff;
        int b3 = f[o + 3] & 0xff;
        if (b0 == 0x1f && b1 == 0x8b) {
            return Format.GZIP;
        }
        if (length >= 6 && b0 == 0xfd && b1 == '7' && b2 == 'z' && b3 == 'X' && f[o + 4] == 'Z' && f[o + 5] == 0) {
            return Format.XZ;
        }
        if (b0 == 0x02 && b1 == 0x21 && b2 == 0x4c && b3 == 0x18) {
            return Format.LZ4;
        }
        if (b0 == 0x28 && b1 == 0xb5 && b2 == 0x2f && b3 == 0xfd) {
            return Format.ZSTD;
        }
        if (b0 == 'B' && b1 == 'Z' && b2 == 'h') {
            return Format.BZIP2;
        }
        if (b0 == 0x5d && b1 == 0 && b2 == 0) {
            return Format.LZMA;
        }
        if (b0 == 0x89 && b1 == 'L' && b2 == 'Z' && b3 == 'O') {
            return Format.LZO;
        }
        return Format.UNKNOWN;
    }
}
