package dev.jvmm.boot.ext4;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;

/**
 * Walks the ext2/ext3 block map: twelve direct pointers, then single, double and triple indirect
 * blocks of 32-bit pointers; a zero pointer is a hole. Only pointers below the file's last block
 * are followed and each indirect block is read once, so the work is bounded by the file size.
 */
final class BlockMap {
    private static final int DIRECT = 12;

    private final Superblock sb;
    private final Window w;
    private final Inode ino;
    private final long nblocks;
    private final BlockSink sink;
    private final long perBlock;
    private final Set<Long> visited = new HashSet<>();

    private BlockMap(Superblock sb, Window w, Inode ino, long nblocks, BlockSink sink) {
        this.sb = sb;
        this.w = w;
        this.ino = ino;
        this.nblocks = nblocks;
        this.sink = sink;
        this.perBlock = sb.blockSize() / 4;
    }

    /** Feeds sink every mapped block below nblocks. */
    static void walk(Superblock sb, Window w, Inode ino, long nblocks, BlockSink sink) throws IOException, Ext4Exception {
        new BlockMap(sb, w, ino, nblocks, sink).walk();
    }

    private void walk() throws IOException, Ext4Exception {
        byte[] area = ino.blockArea();
        for (int i = 0; i < DIRECT && i < nblocks; i++) {
            map(i, Le.u32(area, 4 * i), "direct pointer " + i);
        }
        long first = DIRECT;
        long span = perBlock;
        for (int level = 1; level <= 3 && first < nblocks; level++) {
            long ptr = Le.u32(area, 4 * (DIRECT + level - 1));
            if (ptr != 0) {
                indirect(ptr, level, first);
            }
            first += span;
            span *= perBlock;
        }
    }

    private void map(long logical, long ptr, String what) throws IOException, Ext4Exception {
        if (ptr != 0) {
            sb.checkBlocks(ptr, 1, "inode " + ino.number() + " " + what);
            sink.run(logical, ptr, 1);
        }
    }

    /** An indirect block of the given level whose first pointer maps logical block {@code first}. */
    private void indirect(long block, int level, long first) throws IOException, Ext4Exception {
        String at = "level-" + level + " indirect block " + block + " of inode " + ino.number();
        sb.checkBlocks(block, 1, at);
        if (!visited.add(block)) {
            throw new Ext4Exception(at + " is referenced twice in the block map");
        }
        byte[] b = w.read(block * sb.blockSize(), sb.blockSize(), at);
        long span = 1;
        for (int l = 1; l < level; l++) {
            span *= perBlock;
        }
        for (int i = 0; i < perBlock; i++) {
            long logical = first + i * span;
            if (logical >= nblocks) {
                return;
            }
            long ptr = Le.u32(b, 4 * i);
            if (level == 1) {
                map(logical, ptr, "in " + at);
            } else if (ptr != 0) {
                indirect(ptr, level - 1, logical);
            }
        }
    }
}
