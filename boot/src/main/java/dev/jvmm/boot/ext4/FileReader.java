package dev.jvmm.boot.ext4;

import java.io.IOException;

/**
 * Reads an inode's whole content into one array: inline data, or the runs an extent tree or
 * block map yields, merged where they are contiguous on disk so a large file costs few reads.
 * The array starts zeroed, which is what holes and uninitialized extents read as.
 */
final class FileReader implements BlockSink {
    private final Window w;
    private final int bs;
    private final byte[] out;
    private final String what;
    private long runLogical;
    private long runPhysical;
    private long runCount;

    private FileReader(Window w, int bs, byte[] out, String what) {
        this.w = w;
        this.bs = bs;
        this.out = out;
        this.what = what;
    }

    /** The content of ino, refused when its size exceeds max (at most Integer.MAX_VALUE - 8). */
    static byte[] read(Superblock sb, Window w, Inode ino, long max, String what) throws IOException, Ext4Exception {
        long size = ino.size();
        if (size > max) {
            throw new Ext4Exception(what + " is " + size + " bytes, over the limit of " + max);
        }
        byte[] out = new byte[(int) size];
        if (size == 0) {
            return out;
        }
        if (ino.hasFlag(Inode.INLINE_DATA_FL)) {
            if (!sb.hasIncompat(Features.INCOMPAT_INLINE_DATA)) {
                throw new Ext4Exception(what + ": inode " + ino.number() + " has inline data but the file system lacks inline_data");
            }
            InlineData.read(ino, out);
            return out;
        }
        long nblocks = (size + sb.blockSize() - 1) / sb.blockSize();
        FileReader r = new FileReader(w, sb.blockSize(), out, what);
        if (ino.hasFlag(Inode.EXTENTS_FL)) {
            if (!sb.hasIncompat(Features.INCOMPAT_EXTENTS)) {
                throw new Ext4Exception(what + ": inode " + ino.number() + " uses extents but the file system lacks the extent feature");
            }
            ExtentTree.walk(sb, w, ino, nblocks, r);
        } else {
            BlockMap.walk(sb, w, ino, nblocks, r);
        }
        r.flush();
        return out;
    }

    @Override
    public void run(long logical, long physical, long count) throws IOException, Ext4Exception {
        if (runCount > 0 && logical == runLogical + runCount && physical == runPhysical + runCount) {
            runCount += count;
            return;
        }
        flush();
        runLogical = logical;
        runPhysical = physical;
        runCount = count;
    }

    private void flush() throws IOException, Ext4Exception {
        if (runCount == 0) {
            return;
        }
        long off = runLogical * bs;
        int len = (int) Math.min(runCount * bs, out.length - off);
        w.readInto(runPhysical * bs, out, (int) off, len, what);
        runCount = 0;
    }
}
