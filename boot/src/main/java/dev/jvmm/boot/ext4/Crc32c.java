package dev.jvmm.boot.ext4;

/**
 * CRC32C (Castagnoli) as ext4's metadata_csum uses it: the register is passed in and out without
 * the final inversion, so checksums chain from a seed (the file system's, then an inode's).
 * java.util.zip.CRC32C cannot start from an arbitrary register, hence this table version.
 */
final class Crc32c {
    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ 0x82F63B78 : c >>> 1;
            }
            TABLE[i] = c;
        }
    }

    private Crc32c() {}

    static int update(int crc, byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            crc = TABLE[(crc ^ b[i]) & 0xFF] ^ (crc >>> 8);
        }
        return crc;
    }

    static int update(int crc, byte[] b) {
        return update(crc, b, 0, b.length);
    }

    /** Continues with a little-endian 32-bit value, as ext4 folds in inode and group numbers. */
    static int updateInt(int crc, long v) {
        return update(crc, new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)});
    }
}
