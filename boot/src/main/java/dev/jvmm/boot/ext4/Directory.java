package dev.jvmm.boot.ext4;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Directory entries, read by a linear scan of every directory block. That is also correct for
 * htree (dir_index) directories, whose index blocks look like one empty entry spanning the
 * block, and for inline directories (parent inode, then entries in i_block and system.data).
 * Each entry's rec_len and name length are checked against its block before use.
 */
final class Directory {
    /** Directories larger than this are refused; real ones are far smaller. */
    static final long MAX_BYTES = 8L << 20;
    private static final int TAIL = 12;
    private static final int TAIL_TYPE = 0xDE;

    /** One entry; name holds the on-disk bytes one char per byte (ISO-8859-1) so lookups compare bytes exactly. */
    record Entry(long inode, String name) {
        String displayName() {
            return new String(name.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        }

        static String key(String utf8Name) {
            return new String(utf8Name.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        }
    }

    private Directory() {}

    /** All entries of dir; context (a path) only names the directory in messages. */
    static List<Entry> read(Superblock sb, Window w, Inode dir, String context) throws IOException, Ext4Exception {
        List<Entry> out = new ArrayList<>();
        String where = "directory inode " + dir.number() + " (" + context + ")";
        if (dir.hasFlag(Inode.INLINE_DATA_FL)) {
            byte[] area = dir.blockArea();
            out.add(new Entry(dir.number(), "."));
            out.add(new Entry(checkInode(sb, Le.u32(area, 0), where), ".."));
            parse(sb, area, 4, area.length - 4, false, out, where);
            byte[] more = InlineData.systemData(dir);
            parse(sb, more, 0, more.length, false, out, where);
            return out;
        }
        byte[] data = FileReader.read(sb, w, dir, MAX_BYTES, where);
        int bs = sb.blockSize();
        if (data.length % bs != 0) {
            throw new Ext4Exception(where + ": size " + data.length + " is not a whole number of " + bs + "-byte blocks");
        }
        for (int off = 0; off < data.length; off += bs) {
            if (sb.metadataCsum() && hasTail(data, off + bs - TAIL)) {
                int want = Le.i32(data, off + bs - 4);
                int got = Crc32c.update(dir.csumSeed(), data, off, bs - TAIL);
                if (want != got) {
                    throw new Ext4Exception(String.format("%s: block %d checksum mismatch (stored 0x%08x, computed 0x%08x)",
                            where, off / bs, want, got));
                }
            }
            parse(sb, data, off, bs, bs == 65536, out, where);
        }
        return out;
    }

    private static boolean hasTail(byte[] d, int t) {
        return Le.u32(d, t) == 0 && Le.u16(d, t + 4) == TAIL && d[t + 6] == 0 && Le.u8(d, t + 7) == TAIL_TYPE;
    }

    /** Entries of one block (or inline region) d[off, off+len). */
    private static void parse(Superblock sb, byte[] d, int off, int len, boolean bigBlocks, List<Entry> out, String where)
            throws Ext4Exception {
        boolean fileType = sb.hasIncompat(Features.INCOMPAT_FILETYPE);
        int end = off + len;
        int pos = off;
        while (pos < end) {
            if (end - pos < 8) {
                throw new Ext4Exception(where + ": entry header at byte " + (pos - off) + " runs past the block");
            }
            long inode = Le.u32(d, pos);
            int recLen = Le.u16(d, pos + 4);
            if (bigBlocks) {
                // 64 KiB blocks: rec_len 65536 is stored as 0 or 65535, larger values keep bits 16-17 in bits 0-1
                recLen = recLen == 0 || recLen == 65535 ? 65536 : (recLen & 65532) | (recLen & 3) << 16;
            }
            int nameLen = fileType ? Le.u8(d, pos + 6) : Le.u16(d, pos + 6);
            if (recLen < 12 || recLen % 4 != 0 || recLen > end - pos) {
                throw new Ext4Exception(where + ": entry at byte " + (pos - off) + " has bad rec_len " + recLen
                        + " (" + (end - pos) + " bytes left in the block)");
            }
            if (nameLen > 255 || 8 + nameLen > recLen) {
                throw new Ext4Exception(where + ": entry at byte " + (pos - off) + " has name length " + nameLen
                        + " that overruns its rec_len " + recLen);
            }
            if (inode != 0) {
                if (nameLen == 0) {
                    throw new Ext4Exception(where + ": entry at byte " + (pos - off) + " has an empty name");
                }
                String name = new String(d, pos + 8, nameLen, StandardCharsets.ISO_8859_1);
                if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
                    throw new Ext4Exception(where + ": entry name contains '/' or NUL");
                }
                out.add(new Entry(checkInode(sb, inode, where), name));
            }
            pos += recLen;
        }
    }

    private static long checkInode(Superblock sb, long inode, String where) throws Ext4Exception {
        if (inode < 1 || inode > sb.inodesCount()) {
            throw new Ext4Exception(where + ": entry names inode " + inode + ", outside 1.." + sb.inodesCount());
        }
        return inode;
    }
}
