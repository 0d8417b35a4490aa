package dev.jvmm.boot.ext4;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.jvmm.boot.ext4.Features.INCOMPAT_64BIT;
import static dev.jvmm.boot.ext4.Features.INCOMPAT_CSUM_SEED;
import static dev.jvmm.boot.ext4.Features.INCOMPAT_SUPPORTED;
import static dev.jvmm.boot.ext4.Features.RO_COMPAT_BIGALLOC;
import static dev.jvmm.boot.ext4.Features.RO_COMPAT_METADATA_CSUM;

/**
 * The fields of the primary superblock (1024 bytes at byte 1024) that the reader uses, checked
 * against each other and against the window once, so later code can rely on them: block size a
 * power of two from 1 KiB to 64 KiB, every count non-zero and consistent, the whole file system
 * inside the window.
 */
record Superblock(int blockSize, long blocksCount, long firstDataBlock, long blocksPerGroup, long inodesPerGroup,
                  long inodesCount, int inodeSize, int descSize, long groupCount, int compat, int incompat,
                  int roCompat, long firstMetaBg, long backupBg0, long backupBg1, int csumSeed, String label,
                  String uuid) {
    static final int OFFSET = 1024;
    static final int SIZE = 1024;
    static final int MAGIC = 0xEF53;
    private static final int CHECKSUM_OFFSET = 0x3FC;

    boolean hasIncompat(int f) {
        return (incompat & f) != 0;
    }

    boolean hasRoCompat(int f) {
        return (roCompat & f) != 0;
    }

    boolean metadataCsum() {
        return hasRoCompat(RO_COMPAT_METADATA_CSUM);
    }

    /** The block holding the superblock: block 1 with 1 KiB blocks, else block 0. */
    long superblockBlock() {
        return OFFSET / blockSize;
    }

    long groupFirstBlock(long group) {
        return firstDataBlock + group * blocksPerGroup;
    }

    /** Refuses a run of blocks that is not wholly inside the file system (block 0 is never file data). */
    void checkBlocks(long start, long count, String what) throws Ext4Exception {
        if (start < 1 || count < 1 || start >= blocksCount || count > blocksCount - start) {
            throw new Ext4Exception(what + " points at blocks " + start + "+" + count + ", outside the file system of "
                    + blocksCount + " blocks");
        }
    }

    /** Whether a group carries a superblock backup (and so, under meta_bg, shifts its descriptor block). */
    boolean groupHasSuper(long g) {
        if (g == 0) {
            return true;
        }
        if ((compat & Features.COMPAT_SPARSE_SUPER2) != 0) {
            return g == backupBg0 || g == backupBg1;
        }
        if (g == 1 || !hasRoCompat(Features.RO_COMPAT_SPARSE_SUPER)) {
            return true;
        }
        return isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7);
    }

    private static boolean isPowerOf(long g, int base) {
        long p = base;
        while (p < g) {
            p *= base;
        }
        return p == g;
    }

    static Superblock read(Window w) throws IOException, Ext4Exception {
        if (w.length() < OFFSET + SIZE) {
            throw new Ext4Exception("partition of " + w.length() + " bytes is too small to hold an ext4 superblock");
        }
        byte[] b = w.read(OFFSET, SIZE, "superblock");
        int magic = Le.u16(b, 0x38);
        if (magic != MAGIC) {
            throw new Ext4Exception(String.format("no ext2/3/4 file system: bad superblock magic 0x%04x (want 0xef53)", magic));
        }
        int compat = Le.i32(b, 0x5C);
        int incompat = Le.i32(b, 0x60);
        int roCompat = Le.i32(b, 0x64);
        int refused = incompat & ~INCOMPAT_SUPPORTED;
        if (refused != 0) {
            throw new Ext4Exception("superblock: unsupported incompatible feature(s) " + Features.incompatNames(refused));
        }
        boolean csum = (roCompat & RO_COMPAT_METADATA_CSUM) != 0;
        if (csum) {
            if (Le.u8(b, 0x175) != 1) {
                throw new Ext4Exception("superblock: unknown checksum type " + Le.u8(b, 0x175) + " (only crc32c is defined)");
            }
            int want = Le.i32(b, CHECKSUM_OFFSET);
            int got = Crc32c.update(~0, b, 0, CHECKSUM_OFFSET);
            if (want != got) {
                throw new Ext4Exception(String.format("superblock checksum mismatch (stored 0x%08x, computed 0x%08x)", want, got));
            }
        }
        long logBlock = Le.u32(b, 0x18);
        if (logBlock > 6) {
            throw new Ext4Exception("superblock: absurd block size 2^(10+" + logBlock + ") (ext4 allows 1 KiB to 64 KiB)");
        }
        int bs = 1024 << logBlock;
        long rev = Le.u32(b, 0x4C);
        if (rev > 1) {
            throw new Ext4Exception("superblock: unsupported revision level " + rev);
        }
        int inodeSize = rev == 0 ? 128 : Le.u16(b, 0x58);
        if (inodeSize < 128 || inodeSize > bs || Integer.bitCount(inodeSize) != 1) {
            throw new Ext4Exception("superblock: absurd inode size " + inodeSize + " (want a power of two from 128 to the block size " + bs + ")");
        }
        boolean is64 = (incompat & INCOMPAT_64BIT) != 0;
        long blocks = Le.u32(b, 0x04) | (is64 ? Le.u32(b, 0x150) << 32 : 0);
        long firstData = Le.u32(b, 0x14);
        long clusterRatio = 1;
        if ((roCompat & RO_COMPAT_BIGALLOC) != 0) {
            long logCluster = Le.u32(b, 0x1C);
            if (logCluster < logBlock || logCluster > logBlock + 16) {
                throw new Ext4Exception("superblock: absurd cluster size 2^(10+" + logCluster + ") for block size " + bs);
            }
            clusterRatio = 1L << (logCluster - logBlock);
        }
        if (firstData != (bs == 1024 && clusterRatio == 1 ? 1 : 0)) {
            throw new Ext4Exception("superblock: first data block " + firstData + " is wrong for block size " + bs);
        }
        if (blocks <= firstData + 1 || blocks > w.length() / bs) {
            throw new Ext4Exception("superblock: block count " + blocks + " of " + bs + " bytes does not fit the "
                    + w.length() + "-byte partition (truncated image?)");
        }
        long bpg = Le.u32(b, 0x20);
        if (bpg < 8 || bpg > 8L * bs * clusterRatio) {
            throw new Ext4Exception("superblock: absurd blocks per group " + bpg + " for block size " + bs);
        }
        long groups = (blocks - firstData + bpg - 1) / bpg;
        long ipg = Le.u32(b, 0x28);
        if (ipg < bs / inodeSize || ipg > 8L * bs) {
            throw new Ext4Exception("superblock: absurd inodes per group " + ipg + " for block size " + bs);
        }
        long inodes = Le.u32(b, 0x00);
        if (inodes != groups * ipg) {
            throw new Ext4Exception("superblock: inode count " + inodes + " is not " + groups + " groups × " + ipg + " inodes per group");
        }
        int descSize = 32;
        if (is64) {
            descSize = Le.u16(b, 0xFE);
            if (descSize < 64 || descSize > Math.min(1024, bs) || Integer.bitCount(descSize) != 1) {
                throw new Ext4Exception("superblock: absurd group descriptor size " + descSize + " (want a power of two from 64 to 1024)");
            }
        }
        long firstMetaBg = Le.u32(b, 0x104);
        long descBlocks = (groups + bs / descSize - 1) / (bs / descSize);
        if ((incompat & Features.INCOMPAT_META_BG) != 0 && firstMetaBg > descBlocks) {
            throw new Ext4Exception("superblock: first meta block group " + firstMetaBg + " is past the " + descBlocks + " descriptor blocks");
        }
        byte[] uuidBytes = new byte[16];
        System.arraycopy(b, 0x68, uuidBytes, 0, 16);
        int seed = 0;
        if (csum) {
            seed = (incompat & INCOMPAT_CSUM_SEED) != 0 ? Le.i32(b, 0x270) : Crc32c.update(~0, uuidBytes);
        }
        return new Superblock(bs, blocks, firstData, bpg, ipg, inodes, inodeSize, descSize, groups, compat, incompat,
                roCompat, firstMetaBg, Le.u32(b, 0x24C), Le.u32(b, 0x250), seed, cString(b, 0x78, 16), uuid(uuidBytes));
    }

    private static String cString(byte[] b, int off, int max) {
        int n = 0;
        while (n < max && b[off + n] != 0) {
            n++;
        }
        return new String(b, off, n, StandardCharsets.UTF_8);
    }

    private static String uuid(byte[] u) {
        StringBuilder s = new StringBuilder(36);
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                s.append('-');
            }
            s.append(String.format("%02x", u[i]));
        }
        return s.toString();
    }

    /** Incompat feature names set in this file system, for diagnostics. */
    List<String> incompatNames() {
        return Features.incompatNames(incompat);
    }
}
