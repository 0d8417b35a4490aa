package dev.jvmm.boot.ext4;

/** Little-endian fields of on-disk structures; callers check the offsets against the array first. */
final class Le {
    private Le() {}

    static int u8(byte[] b, int off) {
        return b[off] & 0xFF;
    }

    static int u16(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8;
    }

    static long u32(byte[] b, int off) {
        return (u16(b, off) | (long) u16(b, off + 2) << 16) & 0xFFFF_FFFFL;
    }

    static int i32(byte[] b, int off) {
        return (int) u32(b, off);
    }
}
