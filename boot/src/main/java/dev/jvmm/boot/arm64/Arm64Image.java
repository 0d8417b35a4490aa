package dev.jvmm.boot.arm64;

import java.io.InputStream;
import dev.jvmm.boot.KernelLoadException;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

/**
 * A parsed arm64 Linux kernel Image (Documentation/arm64/booting.rst, "Call the kernel image"):
 * the 64-byte header that says where the Image goes and how much memory it needs. arm64 kernels
 * have no decompressor of their own, so a gzip-compressed Image (Image.gz, the vmlinuz that
 * Bottlerocket and distributions ship) or an EFI zboot image with a gzip payload is inflated here,
 * with a size cap. Every header field jvmm relies on is checked; a bad one is refused with a
 * {@link KernelLoadException} naming it.
 *
 * @param image the uncompressed Image, loaded as it is
 * @param textOffset where the Image goes above a 2 MiB aligned base
 * @param imageSize bytes from the Image's start the kernel uses (bss included); at least the
 *                  file's length, which is what is used when the header says 0
 * @param flags the header's flags (endianness, page size, physical placement)
 * @param format how it came: "Image", "Image.gz (gzip)" or "EFI zboot (gzip)"
 */
public record Arm64Image(byte[] image, long textOffset, long imageSize, long flags, String format) {
    public static final int HEADER_SIZE = 64;
    /** "ARM\x64", little-endian, at offset 0x38. */
    public static final int MAGIC = 0x644d5241;
    public static final int MAGIC_OFFSET = 0x38;
    /** The kernel's base must be 2 MiB aligned; text_offset is added to it. */
    public static final long BASE_ALIGNMENT = 2L << 20;
    /** booting.rst: "Where image_size is zero, text_offset can be assumed to be 0x80000". */
    public static final long LEGACY_TEXT_OFFSET = 0x80000;
    /** Far above any arm64 Image (a distribution's is 30-40 MiB): the cap on what a gzip inflates to. */
    public static final int MAX_INFLATED_BYTES = 256 << 20;
    /** Far above any image_size (text, data and bss of a kernel), and below what could wrap an address. */
    public static final long MAX_IMAGE_SIZE = 1L << 30;

    public static final long FLAG_BIG_ENDIAN = 1;
    public static final long FLAG_PAGE_SIZE_MASK = 3L << 1;
    public static final long FLAG_PHYS_ANYWHERE = 1L << 3;

    /** The page size the kernel was built for, in KiB; 0 where the header leaves it unspecified. */
    public int pageSizeKiB() {
        return switch ((int) ((flags & FLAG_PAGE_SIZE_MASK) >> 1)) {
            case 1 -> 4;
            case 2 -> 16;
            case 3 -> 64;
            default -> 0;
        };
    }

    /**
     * Flag bit 3: the 2 MiB aligned base may be anywhere in RAM. Without it, memory below the
     * base is lost to the kernel's linear map, so the base should be the start of RAM.
     */
    public boolean placeAnywhere() {
        return (flags & FLAG_PHYS_ANYWHERE) != 0;
    }

    public static Arm64Image parse(byte[] file) throws KernelLoadException {
        return parse(file, MAX_INFLATED_BYTES);
    }

    /** As {@link #parse(byte[])}, with the cap on a compressed kernel's inflated size given. */
    public static Arm64Image parse(byte[] file, int maxInflated) throws KernelLoadException {
        if (file.length >= 2 && (file[0] & 0xff) == 0x1f && (file[1] & 0xff) == 0x8b) {
            return parseHeader(inflate(file, 0, file.length, maxInflated, "Image.gz"), "Image.gz (gzip)");
        }
        if (file.length >= 64 && file[0] == 'M' && file[1] == 'Z' && asciiAt(file, 4, 4).equals("zimg")) {
            return parseZboot(file, maxInflated);
        }
        return parseHeader(file, "Image");
    }

    private static Arm64Image parseHeader(byte[] image, String format) throws KernelLoadException {
        if (image.length < HEADER_SIZE) {
            throw new KernelLoadException("arm64 kernel is too small (" + image.length + " bytes) to hold the 64-byte "
                    + "Image header");
        }
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(MAGIC_OFFSET) != MAGIC) {
            throw new KernelLoadException(String.format("not an arm64 Image: magic at 0x38 is 0x%08x, not 0x%08x "
                    + "(\"ARM\\x64\")%s", b.getInt(MAGIC_OFFSET), MAGIC, looksLikeElf(image)
                    ? "; an ELF vmlinux is not booted on arm64, use its Image" : ""));
        }
        long textOffset = b.getLong(8);
        long imageSize = b.getLong(16);
        long flags = b.getLong(24);
        if (imageSize == 0) {
            // A kernel before 3.17: text_offset is 0x80000 in the kernel's own endianness.
            textOffset = LEGACY_TEXT_OFFSET;
            flags = 0;
        }
        if ((flags & FLAG_BIG_ENDIAN) != 0) {
            throw new KernelLoadException("arm64 Image flags (0x" + Long.toHexString(flags) + ") say big-endian kernel; "
                    + "jvmm boots little-endian kernels only");
        }
        if (textOffset < 0 || textOffset >= BASE_ALIGNMENT || textOffset % 4096 != 0) {
            throw new KernelLoadException(String.format("arm64 Image text_offset 0x%x is not a 4 KiB multiple below 2 MiB",
                    textOffset));
        }
        if (imageSize < 0 || imageSize > MAX_IMAGE_SIZE) {
            throw new KernelLoadException(String.format("arm64 Image image_size 0x%x is past jvmm's limit of 0x%x",
                    imageSize, MAX_IMAGE_SIZE));
        }
        if (imageSize != 0 && imageSize < image.length) {
            throw new KernelLoadException(String.format("arm64 Image image_size 0x%x is smaller than the Image itself "
                    + "(0x%x bytes)", imageSize, image.length));
        }
        return new Arm64Image(image, textOffset, imageSize == 0 ? image.length : imageSize, flags, format);
    }

    /**
     * An EFI zboot image (CONFIG_EFI_ZBOOT): a PE file whose header names a compressed Image
     * payload; the EFI stub it carries is not run, the payload is inflated and booted as an Image.
     */
    private static Arm64Image parseZboot(byte[] file, int maxInflated) throws KernelLoadException {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long offset = b.getInt(8) & 0xffffffffL;
        long size = b.getInt(12) & 0xffffffffL;
        String type = asciiAt(file, 24, 32);
        if (offset > file.length || size > file.length - offset) {
            throw new KernelLoadException(String.format("EFI zboot payload 0x%x+0x%x lies outside the file (%d bytes)",
                    offset, size, file.length));
        }
        if (!type.equals("gzip")) {
            throw new KernelLoadException("EFI zboot payload is compressed with '" + type.replaceAll("[^ -~]", "?")
                    + "'; jvmm inflates gzip only");
        }
        return parseHeader(inflate(file, (int) offset, (int) size, maxInflated, "EFI zboot payload"), "EFI zboot (gzip)");
    }

    private static byte[] inflate(byte[] file, int offset, int length, int max, String what) throws KernelLoadException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(file, offset, length), 65536)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(max, Math.max(length, 1L << 20) * 4));
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                if (out.size() > max - n) {
                    throw new KernelLoadException(what + " inflates past " + max + " bytes (" + (max >> 20)
                            + " MiB), jvmm's limit for a kernel");
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (EOFException e) {
            throw new KernelLoadException(what + " is truncated: the gzip stream ends early");
        } catch (IOException e) {
            throw new KernelLoadException(what + " is not valid gzip: " + e.getMessage());
        }
    }

    private static boolean looksLikeElf(byte[] f) {
        return f.length >= 4 && f[0] == 0x7f && f[1] == 'E' && f[2] == 'L' && f[3] == 'F';
    }

    /** The NUL-terminated ASCII at [offset, offset + max) of the file. */
    private static String asciiAt(byte[] f, int offset, int max) {
        int end = offset;
        while (end < Math.min(f.length, offset + max) && f[end] != 0) {
            end++;
        }
        return new String(f, offset, end - offset, StandardCharsets.ISO_8859_1);
    }

    /** ELF machine number of AArch64. */
    static final int EM_AARCH64 = 183;

    /**
     * Whether a kernel file (its first bytes suffice; a gzip'd one is opened to look inside) is an
     * arm64 kernel in one of the forms jvmm boots: an Image (the "ARM\x64" magic), Image.gz, EFI
     * zboot, or an AArch64 ELF vmlinux. The one place that tells an arm64 kernel from others:
     * the machine builder and the lab both ask it.
     */
    public static boolean isArm64Kernel(byte[] kernel) {
        byte[] head = kernel;
        if (kernel.length >= 2 && (kernel[0] & 0xff) == 0x1f && (kernel[1] & 0xff) == 0x8b) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(kernel))) {
                head = in.readNBytes(HEADER_SIZE);
            } catch (IOException notGzip) {
                return false;
            }
        }
        if (head.length < HEADER_SIZE) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(MAGIC_OFFSET) == MAGIC) {
            return true;
        }
        if (head[0] == 'M' && head[1] == 'Z' && head[4] == 'z' && head[5] == 'i' && head[6] == 'm' && head[7] == 'g') {
            return true; // EFI zboot: only arm64 among jvmm's architectures uses it
        }
        return head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F' && b.getShort(18) == EM_AARCH64;
    }
}
