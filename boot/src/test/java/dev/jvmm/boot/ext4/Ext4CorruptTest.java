package dev.jvmm.boot.ext4;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Damaged images, one defect at a time: each must end in an Ext4Exception whose message names
 * the defect. The images come from mke2fs and are then edited in memory at offsets debugfs reports.
 */
class Ext4CorruptTest {
    static final int BS = 4096;
    static final int SB = 1024;
    static final int GD0 = BS;

    @TempDir
    static Path tmp;
    /** ext4 without metadata_csum, so that field checks are reached; and one with it. */
    static byte[] plain;
    static byte[] csum;
    static byte[] ext2;
    static long fInode;
    static long holesInode;
    static long holesLeaf;
    static long linkInode;
    static long dirBlock;
    static long csumFInode;
    static long csumHolesLeaf;
    static long csumDirBlock;
    static long ext2BigInode;

    @BeforeAll
    static void images() throws Exception {
        assumeTrue(Ext4Images.haveTools(), "needs mke2fs and debugfs");
        Path stage = Files.createDirectories(tmp.resolve("stage/d"));
        Files.write(stage.getParent().resolve("f"), Ext4Images.random(1, 10_000));
        Ext4Images.sparse(stage.getParent().resolve("holes"), 4 * Ext4Images.MIB, 8192, 4096, 2);
        Files.write(stage.getParent().resolve("big"), Ext4Images.random(3, 1 << 20));
        for (int i = 0; i < 5; i++) {
            Files.writeString(stage.resolve("e" + i), "entry " + i);
        }
        Files.createSymbolicLink(stage.getParent().resolve("loop1"), Path.of("loop2"));
        Files.createSymbolicLink(stage.getParent().resolve("loop2"), Path.of("/loop1"));
        Files.createSymbolicLink(stage.getParent().resolve("link"), Path.of("f"));
        Path p = Ext4Images.mkfs(tmp.resolve("plain.img"), 16 * Ext4Images.MIB, stage.getParent(), "-t", "ext4", "-b", "4096",
                "-O", "^has_journal,^metadata_csum");
        plain = Files.readAllBytes(p);
        fInode = Ext4Images.inodeOffset(p, "/f", BS);
        holesInode = Ext4Images.inodeOffset(p, "/holes", BS);
        holesLeaf = leafBlock(p) * BS;
        linkInode = Ext4Images.inodeOffset(p, "/link", BS);
        dirBlock = Ext4Images.blocks(p, "/d")[0] * BS;
        Path c = Ext4Images.mkfs(tmp.resolve("csum.img"), 16 * Ext4Images.MIB, stage.getParent(), "-t", "ext4", "-b", "4096",
                "-O", "^has_journal,metadata_csum");
        csum = Files.readAllBytes(c);
        csumFInode = Ext4Images.inodeOffset(c, "/f", BS);
        csumHolesLeaf = leafBlock(c) * BS;
        csumDirBlock = Ext4Images.blocks(c, "/d")[0] * BS;
        Path e = Ext4Images.mkfs(tmp.resolve("ext2.img"), 16 * Ext4Images.MIB, stage.getParent(), "-t", "ext2", "-b", "1024");
        ext2 = Files.readAllBytes(e);
        ext2BigInode = Ext4Images.inodeOffset(e, "/big", 1024);
    }

    /** The first leaf block of /holes' depth-1 extent tree, from debugfs ex. */
    static long leafBlock(Path image) throws Exception {
        String line = Ext4Images.debugfs(image, "ex /holes").lines().filter(l -> l.startsWith(" 0/ 1")).findFirst().orElseThrow();
        return Long.parseLong(line.trim().split("\\s+")[7]);
    }

    static void put16(byte[] b, long off, int v) {
        b[(int) off] = (byte) v;
        b[(int) off + 1] = (byte) (v >> 8);
    }

    static void put32(byte[] b, long off, long v) {
        put16(b, off, (int) v);
        put16(b, off + 2, (int) (v >> 16));
    }

    static long get32(byte[] b, long off) {
        return Le.u32(b, (int) off);
    }

    /** Recomputes the superblock checksum so an edit is judged on its own (metadata_csum images). */
    static void fixSuperblockChecksum(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b, SB, 0x3FC);
        put32(b, SB + 0x3FC, ~c.getValue());
    }

    static Ext4 open(byte[] image) throws Exception {
        return Ext4.open(new MemChannel(image), 0, image.length);
    }

    static void assertRefused(byte[] image, String... words) {
        assertFails(() -> {
            Ext4 fs = open(image);
            fs.list("/");
            fs.list("/d");
            fs.readFile("/f", 1 << 20);
            fs.readFile("/holes", 8 << 20);
            fs.readFile("/big", 2 << 20);
        }, words);
    }

    interface Action {
        void run() throws Exception;
    }

    static void assertFails(Action a, String... words) {
        Ext4Exception e = assertThrows(Ext4Exception.class, a::run);
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "message '" + e.getMessage() + "' lacks '" + w + "'");
        }
    }

    static byte[] plain() {
        return plain.clone();
    }

    @Test
    void theUndamagedImagesRead() throws Exception {
        for (byte[] image : new byte[][] {plain, csum, ext2}) {
            Ext4 fs = open(image);
            assertEquals(10_000, fs.readFile("/f", 1 << 20).length);
            assertEquals(5, fs.list("/d").size());
            assertEquals(1 << 20, fs.readFile("/big", 2 << 20).length);
        }
    }

    @Test
    void truncatedImages() throws Exception {
        assertFails(() -> Ext4.open(new MemChannel(Arrays.copyOf(plain, 1 << 20)), 0, plain.length), "image truncated");
        assertFails(() -> Ext4.open(new MemChannel(plain), 0, 1 << 20), "does not fit", "truncated image?");
        assertFails(() -> Ext4.open(new MemChannel(plain), 0, 1500), "too small");
    }

    @Test
    void badSuperblocks() {
        byte[] b = plain();
        Arrays.fill(b, SB, SB + 1024, (byte) 0);
        assertRefused(b, "bad superblock magic 0x0000");
        b = plain();
        put16(b, SB + 0x38, 0xEF54);
        assertRefused(b, "bad superblock magic 0xef54");
        b = plain();
        put32(b, SB + 0x18, 20);
        assertRefused(b, "absurd block size");
        b = plain();
        put16(b, SB + 0x58, 100);
        assertRefused(b, "absurd inode size 100");
        b = plain();
        put16(b, SB + 0x58, 8192);
        assertRefused(b, "absurd inode size 8192");
        b = plain();
        put32(b, SB + 0x28, 0);
        assertRefused(b, "absurd inodes per group 0");
        b = plain();
        put32(b, SB + 0x20, 0);
        assertRefused(b, "absurd blocks per group 0");
        b = plain();
        put32(b, SB + 0x00, get32(b, SB) + 1);
        assertRefused(b, "inode count");
        b = plain();
        put32(b, SB + 0x04, 0xFFFF_FFF0L);
        assertRefused(b, "block count", "does not fit");
        b = plain();
        put16(b, SB + 0xFE, 48);
        assertRefused(b, "group descriptor size 48");
        b = plain();
        put32(b, SB + 0x14, 7);
        assertRefused(b, "first data block 7");
        b = plain();
        put32(b, SB + 0x4C, 9);
        assertRefused(b, "revision level 9");
    }

    @Test
    void unsupportedFeaturesAreRefusedByName() {
        for (String[] f : new String[][] {{"10000", "encrypt"}, {"1", "compression"}, {"1000", "dirdata"}, {"8", "journal_dev"},
                {"40000000", "unknown(0x40000000)"}}) {
            byte[] b = plain();
            put32(b, SB + 0x60, get32(b, SB + 0x60) | Long.parseLong(f[0], 16));
            assertRefused(b, "unsupported incompatible feature", f[1]);
        }
    }

    @Test
    void aGroupDescriptorPointingOutside() {
        byte[] b = plain();
        put32(b, GD0 + 0x08, 0xFFFF_FF00L);
        assertRefused(b, "group descriptor 0", "inode table", "outside the file system");
        b = plain();
        put32(b, GD0 + 0x28, 1);
        assertRefused(b, "group descriptor 0", "outside the file system");
    }

    @Test
    void badExtentTrees() {
        long root = fInode + 0x28;
        byte[] b = plain();
        put32(b, root, 0xDEADBEEFL);
        assertFails(() -> open(b).readFile("/f", 1 << 20), "bad extent header magic 0xbeef", "inode");
        byte[] depth = plain();
        put16(depth, root + 6, 100);
        assertFails(() -> open(depth).readFile("/f", 1 << 20), "depth 100 exceeds the limit of 5");
        byte[] entries = plain();
        put16(entries, root + 2, 9);
        assertFails(() -> open(entries).readFile("/f", 1 << 20), "claims 9 of");
        byte[] past = plain();
        put32(past, root + 12 + 8, 0xFFFF_FF00L);
        assertFails(() -> open(past).readFile("/f", 1 << 20), "outside the file system");
        byte[] empty = plain();
        put16(empty, root + 12 + 4, 0);
        assertFails(() -> open(empty).readFile("/f", 1 << 20), "is empty or leaves its range");
        byte[] leaf = plain();
        put16(leaf, holesLeaf, 0x1234);
        assertFails(() -> open(leaf).readFile("/holes", 8 << 20), "extent block", "bad extent header magic 0x1234");
        byte[] leafDepth = plain();
        put16(leafDepth, holesLeaf + 6, 3);
        assertFails(() -> open(leafDepth).readFile("/holes", 8 << 20), "depth 3 where depth 0 belongs");
        byte[] order = plain();
        put32(order, holesLeaf + 12 + 12, 0);
        assertFails(() -> open(order).readFile("/holes", 8 << 20), "out of order");
        byte[] twice = plain();
        long hroot = holesInode + 0x28;
        assertEquals(2, Le.u16(twice, (int) hroot + 2), "/holes should have two leaves");
        put32(twice, hroot + 24 + 4, get32(twice, hroot + 12 + 4));
        assertFails(() -> open(twice).readFile("/holes", 8 << 20), "referenced twice");
    }

    @Test
    void aBlockMapPointingOutsideOrTwiceAtTheSameBlock() throws Exception {
        long iblock = ext2BigInode + 0x28;
        byte[] b = ext2.clone();
        put32(b, iblock + 48, 0xFFFF_FFF0L);
        assertFails(() -> open(b).readFile("/big", 2 << 20), "indirect block", "outside the file system");
        byte[] twice = ext2.clone();
        long dind = get32(twice, iblock + 52) * 1024;
        put32(twice, dind + 4, get32(twice, dind));
        assertFails(() -> open(twice).readFile("/big", 2 << 20), "referenced twice in the block map");
        byte[] direct = ext2.clone();
        put32(direct, iblock + 4, 0xFFFF_FF00L);
        assertFails(() -> open(direct).readFile("/big", 2 << 20), "direct pointer 1", "outside the file system");
    }

    @Test
    void badDirectoryEntries() {
        byte[] zero = plain();
        put16(zero, dirBlock + 4, 0);
        assertFails(() -> open(zero).list("/d"), "directory inode", "bad rec_len 0");
        byte[] past = plain();
        put16(past, dirBlock + 4, BS + 12);
        assertFails(() -> open(past).list("/d"), "bad rec_len " + (BS + 12));
        byte[] odd = plain();
        put16(odd, dirBlock + 4, 13);
        assertFails(() -> open(odd).list("/d"), "bad rec_len 13");
        byte[] name = plain();
        name[(int) dirBlock + 6] = (byte) 200;
        assertFails(() -> open(name).list("/d"), "name length 200");
        byte[] ino = plain();
        put32(ino, dirBlock + 24, 0x7FFF_FFFFL);
        assertFails(() -> open(ino).list("/d"), "names inode 2147483647");
    }

    @Test
    void symlinkLoopsAndHugeSizes() throws Exception {
        assertFails(() -> open(plain).readFile("/loop1", 1 << 20), "too many levels of symbolic links");
        assertArrayEquals(open(plain).readFile("/f", 1 << 20), open(plain).readFile("/link", 1 << 20));
        byte[] huge = plain();
        put32(huge, fInode + 0x6C, 0x10);
        assertFails(() -> open(huge).readFile("/f", 64 << 20), "/f is 68719486736 bytes, over the limit of 67108864");
        byte[] negative = plain();
        put32(negative, fInode + 0x6C, 0x8000_0000L);
        assertFails(() -> open(negative).readFile("/f", 1 << 20), "absurd size");
        byte[] longLink = plain();
        put32(longLink, linkInode + 0x04, 1 << 20);
        assertFails(() -> open(longLink).readFile("/link", 1 << 20), "absurd target length");
    }

    @Test
    void aRootThatIsNotADirectory() {
        byte[] b = plain();
        long table = get32(b, GD0 + 0x08) * BS;
        put16(b, table + 256 + 0x00, 0x81A4); // inode 2 is the table's second 256-byte slot
        assertRefused(b, "root inode 2 is a regular file");
    }

    @Test
    void checksumMismatchesAreCorruption() {
        byte[] sb = csum.clone();
        sb[SB + 0x34]++;
        assertRefused(sb, "superblock checksum mismatch");
        byte[] fixed = csum.clone();
        put16(fixed, SB + 0x58, 100);
        fixSuperblockChecksum(fixed);
        assertRefused(fixed, "absurd inode size 100");
        byte[] gd = csum.clone();
        gd[GD0 + 0x0C]++;
        assertRefused(gd, "group descriptor 0 checksum mismatch");
        byte[] inode = csum.clone();
        inode[(int) csumFInode + 0x10]++;
        assertFails(() -> open(inode).readFile("/f", 1 << 20), "inode", "checksum mismatch");
        byte[] leaf = csum.clone();
        leaf[(int) csumHolesLeaf + 100]++;
        assertFails(() -> open(leaf).readFile("/holes", 8 << 20), "extent block", "checksum mismatch");
        byte[] dir = csum.clone();
        dir[(int) csumDirBlock + 40]++;
        assertFails(() -> open(dir).list("/d"), "directory inode", "checksum mismatch");
    }
}
