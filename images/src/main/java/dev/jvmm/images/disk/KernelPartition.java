package dev.jvmm.images.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * jvmm's KERN-x partition format for the COS layout, where jvmm is the firmware (no vboot
 * signature). A 4 KiB header, then the kernel image:
 * <pre>
 *   0  magic "JVMMKRN1"        8  u32 format version (1)   12 u32 command line length
 *  16  u64 kernel offset (4096) 24 u64 kernel size
 *  32  version string, 64 bytes, NUL-padded
 * 128  command line, up to 3968 bytes; "$kern_guid" stands for this partition's unique GUID
 * </pre>
 * All little-endian.
 */
public record KernelPartition(String version, String cmdline, long kernelSize) {
    public static final byte[] MAGIC = "JVMMKRN1".getBytes(StandardCharsets.US_ASCII);
    public static final int HEADER = 4096;
    static final int CMDLINE_MAX = HEADER - 128;

    public byte[] header() {
        byte[] cmd = cmdline.getBytes(StandardCharsets.US_ASCII);
        byte[] ver = version.getBytes(StandardCharsets.US_ASCII);
        if (cmd.length > CMDLINE_MAX || ver.length > 63) {
            throw new IllegalArgumentException("command line or version too long for the KERN header");
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, MAGIC).putInt(8, 1).putInt(12, cmd.length).putLong(16, HEADER).putLong(24, kernelSize);
        b.put(32, ver).put(128, cmd);
        return b.array();
    }

    /**
     * Reads the header at {@code offset}: null when there is no header (no magic: an empty slot);
     * a header with the magic whose fields are out of range is damaged, and says which field.
     */
    public static KernelPartition read(FileChannel ch, long offset, long partitionSize) throws IOException,
            KernHeaderException {
        ByteBuffer b = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, offset + b.position()) < 0) {
                return null;
            }
        }
        if (!Arrays.equals(Arrays.copyOf(b.array(), 8), MAGIC)) {
            return null;
        }
        if (b.getInt(8) != 1) {
            throw new KernHeaderException("format version " + Integer.toUnsignedString(b.getInt(8)) + " is not 1");
        }
        int len = b.getInt(12);
        long kOff = b.getLong(16);
        long kSize = b.getLong(24);
        if (len < 0 || len > CMDLINE_MAX) {
            throw new KernHeaderException("command line length " + Integer.toUnsignedString(len) + " is over " + CMDLINE_MAX);
        }
        if (kOff != HEADER) {
            throw new KernHeaderException("kernel offset " + Long.toUnsignedString(kOff) + " is not " + HEADER);
        }
        // Compared by subtraction: a hostile 64-bit size must not wrap past the check.
        if (kSize <= 0 || kSize > partitionSize - HEADER) {
            throw new KernHeaderException("kernel size " + Long.toUnsignedString(kSize) + " does not fit the partition's "
                    + (partitionSize - HEADER) + " bytes after the header");
        }
        for (int i = 128; i < 128 + len; i++) {
            if (b.get(i) < 0x20 || b.get(i) > 0x7e) {
                throw new KernHeaderException("command line byte " + (i - 128) + " is not printable ASCII");
            }
        }
        String ver = new String(b.array(), 32, 64, StandardCharsets.US_ASCII).replace("\0", "");
        return new KernelPartition(ver, new String(b.array(), 128, len, StandardCharsets.US_ASCII), kSize);
    }
}
