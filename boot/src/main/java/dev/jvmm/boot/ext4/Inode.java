package dev.jvmm.boot.ext4;

import java.io.IOException;
import java.util.Arrays;

/**
 * One inode as read from its table, checked (checksum, extra size, type, size sign) before any
 * field is trusted. Keeps the raw bytes because inline data lives in i_block and the in-inode
 * extended attribute area.
 */
final class Inode {
    static final int ROOT = 2;
    static final int I_BLOCK = 0x28;
    static final int I_BLOCK_SIZE = 60;
    static final int GOOD_OLD_SIZE = 128;

    static final int S_IFMT = 0xF000;
    static final int S_IFDIR = 0x4000;
    static final int S_IFREG = 0x8000;
    static final int S_IFLNK = 0xA000;

    static final int EXTENTS_FL = 0x80000;
    static final int INLINE_DATA_FL = 0x10000000;
    static final int ENCRYPT_FL = 0x800;

    private static final int CHECKSUM_LO = 0x7C;
    private static final int CHECKSUM_HI = 0x82;

    private final long number;
    private final byte[] raw;
    private final int extraEnd;
    private final int csumSeed;

    private Inode(long number, byte[] raw, int extraEnd, int csumSeed) {
        this.number = number;
        this.raw = raw;
        this.extraEnd = extraEnd;
        this.csumSeed = csumSeed;
    }

    static Inode read(long n, Superblock sb, Groups groups, Window w) throws IOException, Ext4Exception {
        if (n < 1 || n > sb.inodesCount()) {
            throw new Ext4Exception("inode number " + n + " is out of range (1.." + sb.inodesCount() + ")");
        }
        long g = (n - 1) / sb.inodesPerGroup();
        long index = (n - 1) % sb.inodesPerGroup();
        long table = groups.inodeTable(g);
        byte[] raw = w.read(table * sb.blockSize() + index * sb.inodeSize(), sb.inodeSize(), "inode " + n);
        int extraEnd = GOOD_OLD_SIZE;
        if (raw.length > GOOD_OLD_SIZE) {
            int extra = Le.u16(raw, 0x80);
            if (GOOD_OLD_SIZE + extra > raw.length || extra % 4 != 0) {
                throw new Ext4Exception("inode " + n + ": absurd extra inode size " + extra);
            }
            extraEnd += extra;
        }
        int seed = 0;
        if (sb.metadataCsum()) {
            seed = Crc32c.updateInt(Crc32c.updateInt(sb.csumSeed(), n), Le.u32(raw, 0x64));
            verify(n, raw, extraEnd, seed);
        }
        Inode ino = new Inode(n, raw, extraEnd, seed);
        if (ino.size() < 0) {
            throw new Ext4Exception("inode " + n + ": absurd size " + Long.toUnsignedString(ino.size()));
        }
        if ((ino.flags() & ENCRYPT_FL) != 0) {
            throw new Ext4Exception("inode " + n + " is encrypted, which this reader does not support");
        }
        return ino;
    }

    private static void verify(long n, byte[] raw, int extraEnd, int seed) throws Ext4Exception {
        byte[] zero = new byte[2];
        int crc = Crc32c.update(seed, raw, 0, CHECKSUM_LO);
        crc = Crc32c.update(crc, zero);
        crc = Crc32c.update(crc, raw, CHECKSUM_LO + 2, GOOD_OLD_SIZE - CHECKSUM_LO - 2);
        boolean hasHi = raw.length > GOOD_OLD_SIZE && extraEnd >= CHECKSUM_HI + 2;
        if (raw.length > GOOD_OLD_SIZE) {
            crc = Crc32c.update(crc, raw, GOOD_OLD_SIZE, CHECKSUM_HI - GOOD_OLD_SIZE);
            int off = CHECKSUM_HI;
            if (hasHi) {
                crc = Crc32c.update(crc, zero);
                off += 2;
            }
            crc = Crc32c.update(crc, raw, off, raw.length - off);
        }
        int want = Le.u16(raw, CHECKSUM_LO);
        if (hasHi) {
            want |= Le.u16(raw, CHECKSUM_HI) << 16;
        } else {
            crc &= 0xFFFF;
        }
        if (want != crc) {
            throw new Ext4Exception(String.format("inode %d checksum mismatch (stored 0x%08x, computed 0x%08x)", n, want, crc));
        }
    }

    long number() {
        return number;
    }

    int mode() {
        return Le.u16(raw, 0x00);
    }

    long size() {
        return Le.u32(raw, 0x04) | Le.u32(raw, 0x6C) << 32;
    }

    int flags() {
        return Le.i32(raw, 0x20);
    }

    long fileAcl() {
        return Le.u32(raw, 0x68) | (long) Le.u16(raw, 0x76) << 32;
    }

    /** i_blocks in 512-byte units (ignoring huge_file scaling: only compared with zero). */
    long blocks() {
        return Le.u32(raw, 0x1C) | (long) Le.u16(raw, 0x74) << 32;
    }

    boolean isDir() {
        return (mode() & S_IFMT) == S_IFDIR;
    }

    boolean isRegular() {
        return (mode() & S_IFMT) == S_IFREG;
    }

    boolean isSymlink() {
        return (mode() & S_IFMT) == S_IFLNK;
    }

    boolean hasFlag(int f) {
        return (flags() & f) != 0;
    }

    /** The 60 bytes of i_block: block map, extent tree root, fast symlink or inline data. */
    byte[] blockArea() {
        return Arrays.copyOfRange(raw, I_BLOCK, I_BLOCK + I_BLOCK_SIZE);
    }

    /** The in-inode extended attribute area, after i_extra_isize (empty for 128-byte inodes). */
    byte[] xattrArea() {
        return Arrays.copyOfRange(raw, extraEnd, raw.length);
    }

    /** The seed that chains extent-block and directory-block checksums to this inode. */
    int csumSeed() {
        return csumSeed;
    }

    String kind() {
        return switch (mode() & S_IFMT) {
            case S_IFDIR -> "directory";
            case S_IFREG -> "regular file";
            case S_IFLNK -> "symbolic link";
            case 0 -> "unused inode (mode 0)";
            default -> "special file";
        };
    }
}
