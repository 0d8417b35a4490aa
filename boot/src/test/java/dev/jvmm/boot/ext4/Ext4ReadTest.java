package dev.jvmm.boot.ext4;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Every file, directory and link of a staged tree reads back the same from images of many mke2fs feature sets. */
class Ext4ReadTest {
    static final String UUID = "2f1c7e3a-5b7d-4c1e-9a8b-0123456789ab";

    @TempDir
    static Path tmp;
    static Path full;
    static Path small;
    static Path blockMapped;

    /** One mke2fs run: which staged tree, image size, arguments. */
    record Config(String name, String tree, long mib, List<String> args) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Config> configs() {
        return List.of(
                new Config("ext4 defaults (1 KiB blocks at this size, journal, 64bit, metadata_csum)", "full", 96, List.of("-t", "ext4")),
                new Config("jvmm BOOT: 4 KiB, no journal, label, uuid, hash seed", "full", 96, List.of("-t", "ext4", "-b", "4096",
                        "-L", "BOOT", "-U", UUID, "-E", "hash_seed=" + UUID + ",root_owner=0:0,nodiscard", "-O", "^has_journal")),
                new Config("64bit, 4 KiB", "full", 96, List.of("-t", "ext4", "-b", "4096", "-O", "64bit")),
                new Config("^64bit, 4 KiB", "full", 96, List.of("-t", "ext4", "-b", "4096", "-O", "^64bit")),
                new Config("1 KiB, ^64bit, ^metadata_csum", "full", 96, List.of("-t", "ext4", "-b", "1024", "-O", "^64bit,^metadata_csum")),
                new Config("2 KiB blocks", "full", 96, List.of("-t", "ext4", "-b", "2048")),
                new Config("ext2 (block map, 1 KiB, triple indirect)", "blockmap", 160, List.of("-t", "ext2")),
                new Config("ext3 (block map, journal, 4 KiB)", "blockmap", 160, List.of("-t", "ext3", "-b", "4096")),
                new Config("-I 128", "full", 96, List.of("-t", "ext4", "-b", "4096", "-I", "128")),
                new Config("-I 256", "full", 96, List.of("-t", "ext4", "-b", "4096", "-I", "256")),
                new Config("-I 1024", "full", 96, List.of("-t", "ext4", "-b", "4096", "-I", "1024")),
                new Config("inline_data", "full", 96, List.of("-t", "ext4", "-O", "inline_data")),
                new Config("meta_bg over 64 groups", "full", 96, List.of("-t", "ext4", "-b", "1024", "-g", "1024", "-N", "4096",
                        "-O", "meta_bg,^resize_inode")),
                new Config("64 KiB blocks", "small", 96, List.of("-t", "ext4", "-b", "65536")),
                new Config("bigalloc, 16 KiB clusters", "small", 96, List.of("-t", "ext4", "-O", "bigalloc", "-C", "16384")),
                new Config("sparse_super2, flex_bg off", "full", 96, List.of("-t", "ext4", "-O", "sparse_super2,^flex_bg")));
    }

    @BeforeAll
    static void stage() throws Exception {
        assumeTrue(Ext4Images.haveTools(), "needs mke2fs and debugfs");
        full = Ext4Images.stage(tmp.resolve("full"), true, false);
        small = Ext4Images.stage(tmp.resolve("small"), false, false);
        blockMapped = Ext4Images.stage(tmp.resolve("blockmap"), true, true);
    }

    static Path tree(String name) {
        return switch (name) {
            case "full" -> full;
            case "small" -> small;
            default -> blockMapped;
        };
    }

    @ParameterizedTest
    @MethodSource("configs")
    void readsBackEveryFile(Config c) throws Exception {
        Path stage = tree(c.tree());
        Path image = Ext4Images.mkfs(tmp.resolve("img"), c.mib() * Ext4Images.MIB, stage, c.args().toArray(new String[0]));
        try (FileChannel ch = FileChannel.open(image)) {
            Ext4 fs = Ext4.open(ch, 0, ch.size());
            TreeCheck.Counts n = TreeCheck.compare(fs, stage);
            assertTrue(n.files() > 200 && n.dirs() > 10 && n.links() > 10 && n.bytes() > 10 * Ext4Images.MIB, n.toString());
            TreeCheck.links(fs, stage, !c.tree().equals("small"));
        }
    }

    @Test
    void labelAndUuidOfTheBootPartition() throws Exception {
        Path image = Ext4Images.mkfs(tmp.resolve("boot.img"), 16 * Ext4Images.MIB, null,
                "-t", "ext4", "-b", "4096", "-L", "BOOT", "-U", UUID, "-O", "^has_journal");
        Ext4 fs = Ext4Images.open(image);
        assertEquals("BOOT", fs.label());
        assertEquals(UUID, fs.uuid());
        assertEquals(List.of("lost+found"), fs.list("/"));
    }
}
