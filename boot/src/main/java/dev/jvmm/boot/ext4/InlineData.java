package dev.jvmm.boot.ext4;

/**
 * Inline data (INCOMPAT_INLINE_DATA): a small file or directory kept in the inode itself, first
 * the 60 bytes of i_block, then the value of the "system.data" extended attribute in the
 * in-inode attribute area (header magic 0xEA020000, 16-byte entries padded to 4 bytes, values
 * addressed from the first entry).
 */
final class InlineData {
    private static final long XATTR_MAGIC = 0xEA020000L;
    private static final int ENTRY_HEADER = 16;
    private static final int INDEX_SYSTEM = 7;

    private InlineData() {}

    /** The system.data value, or an empty array when the inode has none. */
    static byte[] systemData(Inode ino) throws Ext4Exception {
        byte[] a = ino.xattrArea();
        if (a.length < 4 || Le.u32(a, 0) != XATTR_MAGIC) {
            return new byte[0];
        }
        int first = 4;
        int pos = first;
        String where = "in-inode attributes of inode " + ino.number();
        while (pos + 4 <= a.length && Le.u32(a, pos) != 0) {
            if (pos + ENTRY_HEADER > a.length) {
                throw new Ext4Exception(where + ": entry at byte " + pos + " overruns the inode");
            }
            int nameLen = Le.u8(a, pos);
            int entryLen = (ENTRY_HEADER + nameLen + 3) & ~3;
            if (pos + entryLen > a.length) {
                throw new Ext4Exception(where + ": entry at byte " + pos + " overruns the inode");
            }
            boolean isData = Le.u8(a, pos + 1) == INDEX_SYSTEM && nameLen == 4 && a[pos + 16] == 'd'
                    && a[pos + 17] == 'a' && a[pos + 18] == 't' && a[pos + 19] == 'a';
            if (isData) {
                long off = first + (long) Le.u16(a, pos + 2);
                long size = Le.u32(a, pos + 8);
                if (Le.u32(a, pos + 4) != 0 || off + size > a.length) {
                    throw new Ext4Exception(where + ": system.data value (" + size + " bytes at " + off + ") is not inside the inode");
                }
                byte[] v = new byte[(int) size];
                System.arraycopy(a, (int) off, v, 0, (int) size);
                return v;
            }
            pos += entryLen;
        }
        return new byte[0];
    }

    /** The file's bytes when they are inline; size was checked against the caller's limit. */
    static void read(Inode ino, byte[] out) throws Ext4Exception {
        byte[] area = ino.blockArea();
        int head = Math.min(out.length, area.length);
        System.arraycopy(area, 0, out, 0, head);
        if (out.length > head) {
            byte[] rest = systemData(ino);
            if (rest.length < out.length - head) {
                throw new Ext4Exception("inode " + ino.number() + ": inline data holds " + (head + rest.length)
                        + " bytes, less than its size " + out.length);
            }
            System.arraycopy(rest, 0, out, head, out.length - head);
        }
    }
}
