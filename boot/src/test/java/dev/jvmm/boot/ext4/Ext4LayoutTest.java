package dev.jvmm.boot.ext4;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Layouts the feature matrix does not reach by itself: partitions, fragmentation, deep trees, seeds, inline directories. */
class Ext4LayoutTest {
    @TempDir
    Path tmp;

    @BeforeEach
    void tools() {
        assumeTrue(Ext4Images.haveTools(), "needs mke2fs and debugfs");
    }

    @Test
    void aPartitionInsideABiggerImageReadsTheSameAndNothingOutsideIsRead() throws Exception {
        Path stage = Ext4Images.stage(tmp.resolve("s"), false, false);
        Path image = Ext4Images.mkfs(tmp.resolve("fs.img"), 40 * Ext4Images.MIB, stage, "-t", "ext4", "-b", "4096");
        byte[] fs = Files.readAllBytes(image);
        int offset = (1 << 20) + 512;
        byte[] disk = new byte[offset + fs.length + (1 << 20)];
        Arrays.fill(disk, (byte) 0xA5);
        System.arraycopy(fs, 0, disk, offset, fs.length);

        MemChannel mem = new MemChannel(disk, offset, offset + fs.length);
        TreeCheck.Counts n = TreeCheck.compare(Ext4.open(mem, offset, fs.length), stage);
        assertTrue(n.files() > 200, n.toString());
        assertTrue(mem.reads() > 100);
        assertEquals(0, mem.outsideReads(), "reads outside the partition window");

        Path diskFile = tmp.resolve("disk.img");
        Files.write(diskFile, disk);
        try (FileChannel ch = FileChannel.open(diskFile)) {
            assertEquals(n, TreeCheck.compare(Ext4.open(ch, offset, fs.length), stage));
        }
    }

    @Test
    void aFragmentedFileReadsBack() throws Exception {
        for (String type : List.of("ext4", "ext2")) {
            Path stage = Files.createDirectories(tmp.resolve("pads-" + type));
            for (int i = 0; i < 64; i++) {
                Files.write(stage.resolve("pad" + i), Ext4Images.random(i, 64 << 10));
            }
            Path src = tmp.resolve("frag.src");
            byte[] want = Ext4Images.random(99, 1_500_000);
            Files.write(src, want);
            Path image = Ext4Images.mkfs(tmp.resolve(type + ".img"), 8 * Ext4Images.MIB, stage, "-t", type, "-b", "4096",
                    "-O", "^has_journal");
            String[] cmds = new String[33];
            for (int i = 0; i < 32; i++) {
                cmds[i] = "rm /pad" + (2 * i);
            }
            cmds[32] = "write " + src + " /frag";
            Ext4Images.debugfsWrite(image, tmp, cmds);
            if (type.equals("ext4")) {
                long extents = Ext4Images.debugfs(image, "ex /frag").lines().filter(l -> l.startsWith(" 1/ 1")).count();
                assertTrue(extents > 10, "expected a fragmented file, got " + extents + " extents");
            }
            Ext4 fs = Ext4Images.open(image);
            assertArrayEquals(want, fs.readFile("/frag", 2 << 20), type);
            assertArrayEquals(Files.readAllBytes(stage.resolve("pad1")), fs.readFile("/pad1", 1 << 20), type);
        }
    }

    @Test
    void anExtentTreeOfDepthTwo() throws Exception {
        Path stage = Files.createDirectories(tmp.resolve("holes"));
        Ext4Images.sparse(stage.resolve("holes"), 16 * Ext4Images.MIB, 8192, 4096, 7);
        Path image = Ext4Images.mkfs(tmp.resolve("holes.img"), 32 * Ext4Images.MIB, stage, "-t", "ext4", "-b", "4096");
        assertTrue(Ext4Images.debugfs(image, "ex /holes").contains(" 2/ 2"), "expected a depth-2 extent tree");
        assertArrayEquals(Files.readAllBytes(stage.resolve("holes")), Ext4Images.open(image).readFile("/holes", 16 << 20));
    }

    @Test
    void aChecksumSeedSurvivesAChangedUuid() throws Exception {
        Path stage = Ext4Images.stage(tmp.resolve("s"), false, false);
        Path image = Ext4Images.mkfs(tmp.resolve("seed.img"), 40 * Ext4Images.MIB, stage, "-t", "ext4", "-O", "metadata_csum_seed");
        String uuid = "0e2d2b0c-8f5c-4d0b-a3c1-5a4b3c2d1e0f";
        Ext4Images.run("/usr/sbin/tune2fs", "-U", uuid, image.toString());
        Ext4 fs = Ext4Images.open(image);
        assertEquals(uuid, fs.uuid());
        assertTrue(TreeCheck.compare(fs, stage).files() > 200);
    }

    @Test
    void anInlineDirectoryContinuesInItsSystemDataAttribute() throws Exception {
        Path stage = Files.createDirectories(tmp.resolve("inline/idir"));
        Files.writeString(stage.resolve("a"), "a file\n");
        Path image = Ext4Images.mkfs(tmp.resolve("inline.img"), 16 * Ext4Images.MIB, stage.getParent(), "-t", "ext4",
                "-O", "inline_data");
        long aInode = Ext4Images.inodeNumber(image, "/idir/a");
        // one more entry, in the system.data value: inode, rec_len 40, name length, type 1 (regular), name
        byte[] entry = new byte[40];
        byte[] name = "in-xattr-part".getBytes();
        entry[0] = (byte) aInode;
        entry[1] = (byte) (aInode >> 8);
        entry[4] = 40;
        entry[6] = (byte) name.length;
        entry[7] = 1;
        System.arraycopy(name, 0, entry, 8, name.length);
        Path blob = tmp.resolve("entry.bin");
        Files.write(blob, entry);
        Ext4Images.debugfsWrite(image, tmp, "ea_set -f " + blob + " /idir system.data", "sif /idir size 100");
        assertTrue(Ext4Images.debugfs(image, "ls /idir").contains("in-xattr-part"), "debugfs should see the new entry");
        Ext4 fs = Ext4Images.open(image);
        assertEquals(List.of("a", "in-xattr-part"), fs.list("/idir"));
        assertArrayEquals("a file\n".getBytes(), fs.readFile("/idir/in-xattr-part", 100));
    }

    @Test
    void aFileSystemSmallerThanItsPartitionIsFine() throws Exception {
        Path image = Ext4Images.mkfs(tmp.resolve("small.img"), 8 * Ext4Images.MIB, null, "-t", "ext4", "-b", "4096");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(12 * Ext4Images.MIB);
        }
        assertEquals(List.of("lost+found"), Ext4Images.open(image).list("/"));
    }
}
