package dev.jvmm.boot.ext4;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Block group descriptors, read lazily (a boot partition touches one or two groups): where each
 * group's inode table is, after checking the descriptor's checksum (metadata_csum) and that the
 * table lies inside the file system. Handles 32- and 64-byte descriptors and meta_bg placement.
 */
final class Groups {
    private static final int BG_CHECKSUM = 0x1E;
    private static final int BG_INODE_UNINIT = 0x1;

    private final Superblock sb;
    private final Window w;
    private final long tableBlocks;
    private final Map<Long, Long> inodeTables = new ConcurrentHashMap<>();

    Groups(Superblock sb, Window w) {
        this.sb = sb;
        this.w = w;
        this.tableBlocks = (sb.inodesPerGroup() * sb.inodeSize() + sb.blockSize() - 1) / sb.blockSize();
    }

    /** First block of the inode table of group g (0 <= g < groupCount). */
    long inodeTable(long g) throws IOException, Ext4Exception {
        Long t = inodeTables.get(g);
        if (t == null) {
            t = readInodeTable(g);
            inodeTables.put(g, t);
        }
        return t;
    }

    /** Block holding descriptor g: right after the superblock, or under meta_bg in the first block(s) of its meta group. */
    long descriptorBlock(long g) {
        long perBlock = sb.blockSize() / sb.descSize();
        long nr = g / perBlock;
        if (!sb.hasIncompat(Features.INCOMPAT_META_BG) || nr < sb.firstMetaBg()) {
            return sb.superblockBlock() + 1 + nr;
        }
        long first = nr * perBlock;
        long shift = sb.groupHasSuper(first) ? 1 : 0;
        if (sb.blockSize() == 1024 && nr == 0 && sb.firstDataBlock() == 0) {
            shift++; // bigalloc with 1 KiB blocks: block 1 still holds the superblock
        }
        return sb.groupFirstBlock(first) + shift;
    }

    private long readInodeTable(long g) throws IOException, Ext4Exception {
        long block = descriptorBlock(g);
        String what = "group descriptor " + g;
        if (block >= sb.blocksCount()) {
            throw new Ext4Exception(what + " would be in block " + block + ", past the end of the file system");
        }
        int ds = sb.descSize();
        long pos = block * sb.blockSize() + (g % (sb.blockSize() / ds)) * ds;
        byte[] d = w.read(pos, ds, what);
        if (sb.metadataCsum()) {
            int crc = Crc32c.updateInt(sb.csumSeed(), g);
            crc = Crc32c.update(crc, d, 0, BG_CHECKSUM);
            crc = Crc32c.update(crc, new byte[2]);
            crc = Crc32c.update(crc, d, BG_CHECKSUM + 2, ds - BG_CHECKSUM - 2);
            int want = Le.u16(d, BG_CHECKSUM);
            if ((crc & 0xFFFF) != want) {
                throw new Ext4Exception(String.format("%s checksum mismatch (stored 0x%04x, computed 0x%04x)", what, want, crc & 0xFFFF));
            }
        }
        boolean flagsValid = sb.metadataCsum() || sb.hasRoCompat(Features.RO_COMPAT_GDT_CSUM);
        if (flagsValid && (Le.u16(d, 0x12) & BG_INODE_UNINIT) != 0) {
            throw new Ext4Exception(what + ": an inode was asked for in a group whose inode table is uninitialized");
        }
        long table = Le.u32(d, 0x08) | (ds >= 64 ? Le.u32(d, 0x28) << 32 : 0);
        if (table <= sb.superblockBlock() || table > sb.blocksCount() - tableBlocks) {
            throw new Ext4Exception(what + " points its inode table at block " + table + ", outside the file system ("
                    + sb.blocksCount() + " blocks, table of " + tableBlocks + ")");
        }
        return table;
    }
}
