package dev.jvmm.boot.ext4;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;

/**
 * Walks an inode's extent tree (ext4 "Extent Tree"): a 12-byte header and 12-byte index or
 * leaf entries, the root in i_block. Entries must be in increasing logical order and inside
 * their parent's range, depth must fall by one per level (at most 5), each tree block is read
 * once, and nothing at or past the file's last block is visited, so a hostile tree costs at
 * most a few reads per block of the file. Uninitialized extents are left out: they read as zeros.
 */
final class ExtentTree {
    static final int MAGIC = 0xF30A;
    static final int MAX_DEPTH = 5;
    private static final int ENTRY = 12;
    private static final long LOGICAL_LIMIT = 1L << 32;
    private static final int INIT_MAX_LEN = 32768;

    private final Superblock sb;
    private final Window w;
    private final Inode ino;
    private final long nblocks;
    private final BlockSink sink;
    private final Set<Long> visited = new HashSet<>();

    private ExtentTree(Superblock sb, Window w, Inode ino, long nblocks, BlockSink sink) {
        this.sb = sb;
        this.w = w;
        this.ino = ino;
        this.nblocks = nblocks;
        this.sink = sink;
    }

    /** Feeds sink the initialized extents that cover logical blocks below nblocks. */
    static void walk(Superblock sb, Window w, Inode ino, long nblocks, BlockSink sink) throws IOException, Ext4Exception {
        byte[] root = ino.blockArea();
        new ExtentTree(sb, w, ino, nblocks, sink).node(root, -1, 0, LOGICAL_LIMIT, "extent root of inode " + ino.number());
    }

    private void node(byte[] b, int expectDepth, long from, long to, String where) throws IOException, Ext4Exception {
        int magic = Le.u16(b, 0);
        if (magic != MAGIC) {
            throw new Ext4Exception(String.format("%s: bad extent header magic 0x%04x (want 0xf30a)", where, magic));
        }
        int entries = Le.u16(b, 2);
        int max = Le.u16(b, 4);
        int depth = Le.u16(b, 6);
        int room = (b.length - ENTRY) / ENTRY;
        if (max > room || entries > max) {
            throw new Ext4Exception(where + ": extent header claims " + entries + " of " + max + " entries in room for " + room);
        }
        if (expectDepth < 0 && depth > MAX_DEPTH) {
            throw new Ext4Exception(where + ": extent tree depth " + depth + " exceeds the limit of " + MAX_DEPTH);
        }
        if (expectDepth >= 0 && depth != expectDepth) {
            throw new Ext4Exception(where + ": extent node of depth " + depth + " where depth " + expectDepth + " belongs");
        }
        if (expectDepth >= 0 && sb.metadataCsum()) {
            verifyTail(b, max, where);
        }
        long next = from;
        for (int i = 0; i < entries; i++) {
            int e = ENTRY + i * ENTRY;
            long logical = Le.u32(b, e);
            if (logical < next) {
                throw new Ext4Exception(where + ": entry " + i + " at logical block " + logical + " is out of order or overlaps");
            }
            if (depth == 0) {
                int raw = Le.u16(b, e + 4);
                boolean uninit = raw > INIT_MAX_LEN;
                long len = uninit ? raw - INIT_MAX_LEN : raw;
                if (len == 0 || logical + len > to) {
                    throw new Ext4Exception(where + ": extent " + i + " (" + logical + "+" + len + ") is empty or leaves its range");
                }
                next = logical + len;
                if (logical >= nblocks) {
                    return;
                }
                long physical = (long) Le.u16(b, e + 6) << 32 | Le.u32(b, e + 8);
                long count = Math.min(len, nblocks - logical);
                if (!uninit) {
                    sb.checkBlocks(physical, count, where + " extent " + i);
                    sink.run(logical, physical, count);
                }
            } else {
                long end = i + 1 < entries ? Le.u32(b, e + ENTRY) : to;
                if (logical >= to || end > to || end <= logical) {
                    throw new Ext4Exception(where + ": index " + i + " at logical block " + logical + " is out of order or leaves its range");
                }
                next = end;
                if (logical >= nblocks) {
                    return;
                }
                long child = (long) Le.u16(b, e + 8) << 32 | Le.u32(b, e + 4);
                String at = "extent block " + child + " of inode " + ino.number();
                sb.checkBlocks(child, 1, where + " index " + i);
                if (!visited.add(child)) {
                    throw new Ext4Exception(at + " is referenced twice in the tree");
                }
                byte[] cb = w.read(child * sb.blockSize(), sb.blockSize(), at);
                node(cb, depth - 1, logical, end, at);
            }
        }
    }

    /** metadata_csum: crc32c(inode seed, header and all eh_max slots) in the 4 bytes after the slots. */
    private void verifyTail(byte[] b, int max, String where) throws Ext4Exception {
        int off = ENTRY + max * ENTRY;
        if (off + 4 > b.length) {
            throw new Ext4Exception(where + ": no room for the extent block checksum");
        }
        int want = Le.i32(b, off);
        int got = Crc32c.update(ino.csumSeed(), b, 0, off);
        if (want != got) {
            throw new Ext4Exception(String.format("%s: checksum mismatch (stored 0x%08x, computed 0x%08x)", where, want, got));
        }
    }
}
