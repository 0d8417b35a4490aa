package dev.jvmm.boot.ext4;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Random byte flips in the metadata of real images (superblock, group descriptors, used inodes,
 * directory, extent and indirect blocks), with fixed seeds: whatever the damage, the reader
 * may only answer or throw Ext4Exception, must stay inside its window and must finish quickly.
 * -Dfuzz.iterations=N (and -Dfuzz.seconds) run a longer hunt than the 500 per image kept here.
 */
class Ext4FuzzTest {
    static final int ITERATIONS = Integer.getInteger("fuzz.iterations", 500);
    /** Errors an undamaged image gives: reading the /loop link. */
    static final int LOOPS = 1;

    @TempDir
    static Path tmp;
    static Path stage;

    /** A base image and the byte ranges worth damaging: [from, to) pairs. */
    record Base(byte[] image, List<long[]> targets) {}

    @BeforeAll
    static void stage() throws Exception {
        assumeTrue(Ext4Images.haveTools(), "needs mke2fs and debugfs");
        stage = Files.createDirectories(tmp.resolve("stage/d"));
        for (int i = 0; i < 300; i++) {
            Files.writeString(stage.resolve(String.format("entry-%03d", i)), "e".repeat(i % 70));
        }
        Path root = stage.getParent();
        Files.write(root.resolve("f"), Ext4Images.random(1, 10_000));
        Ext4Images.sparse(root.resolve("holes"), 2 * Ext4Images.MIB, 8192, 4096, 2);
        Files.write(root.resolve("big"), Ext4Images.random(3, 600_000));
        Files.createDirectories(root.resolve("a/b/c"));
        Files.writeString(root.resolve("a/b/c/leaf"), "leaf");
        Files.createSymbolicLink(root.resolve("fast"), Path.of("a/b/c/leaf"));
        Files.createSymbolicLink(root.resolve("slow"), Path.of("./././a/../a/b/../b/c/../c/./../../b/c/../../b/./c/../c/./leaf"));
        Files.createSymbolicLink(root.resolve("loop"), Path.of("/loop"));
    }

    static Base base(String name, int bs, String... args) throws Exception {
        Path image = Ext4Images.mkfs(tmp.resolve(name + ".img"), 8 * Ext4Images.MIB, stage.getParent(), args);
        byte[] b = Files.readAllBytes(image);
        List<long[]> t = new ArrayList<>();
        t.add(new long[] {1024, 2048});
        long gdt = (1024 / bs + 1L) * bs;
        t.add(new long[] {gdt, gdt + Math.min(bs, 256)});
        int inodeSize = Le.u16(b, 1024 + 0x58);
        long table = Le.u32(b, (int) gdt + 8) * bs;
        t.add(new long[] {table, table + 400L * inodeSize});
        for (String dir : List.of("/", "/d", "/a", "/a/b/c")) {
            for (long blk : Ext4Images.blocks(image, dir)) {
                t.add(new long[] {blk * bs, (blk + 1) * bs});
            }
        }
        for (String line : Ext4Images.debugfs(image, "ex /holes").lines().toList()) {
            if (line.startsWith(" 0/ 1")) {
                long leaf = Long.parseLong(line.trim().split("\\s+")[7]);
                t.add(new long[] {leaf * bs, leaf * bs + 512});
            }
        }
        long bigInode = Ext4Images.inodeOffset(image, "/big", bs);
        for (int slot = 12; slot <= 13; slot++) {
            long ptr = Le.u32(b, (int) bigInode + 0x28 + 4 * slot);
            if (ptr != 0 && Le.u16(b, (int) bigInode + 0x28) != ExtentTree.MAGIC) {
                t.add(new long[] {ptr * bs, ptr * bs + 256});
            }
        }
        return new Base(b, t);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext4", "ext4-csum", "ext2", "inline"})
    void randomFlipsEndInExt4ExceptionOnly(String kind) throws Exception {
        Base base = switch (kind) {
            case "ext4" -> base(kind, 4096, "-t", "ext4", "-b", "4096", "-O", "^has_journal,^metadata_csum");
            case "ext4-csum" -> base(kind, 4096, "-t", "ext4", "-b", "4096", "-O", "^has_journal");
            case "ext2" -> base(kind, 1024, "-t", "ext2", "-b", "1024");
            default -> base(kind, 1024, "-t", "ext4", "-b", "1024", "-O", "inline_data,^metadata_csum");
        };
        assertEquals(LOOPS, walk(base.image(), new int[2]), "the undamaged image must read but for /loop");
        int[] outcomes = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(Integer.getInteger("fuzz.seconds", 60)), () -> {
            for (int i = 0; i < ITERATIONS; i++) {
                Random rnd = new Random(kind.hashCode() * 1000L + i);
                byte[] img = base.image();
                int flips = 1 + rnd.nextInt(4);
                int[] at = new int[flips];
                byte[] old = new byte[flips];
                for (int k = 0; k < flips; k++) {
                    long[] r = base.targets().get(rnd.nextInt(base.targets().size()));
                    at[k] = (int) (r[0] + rnd.nextInt((int) (r[1] - r[0])));
                    old[k] = img[at[k]];
                    img[at[k]] ^= (byte) (1 + rnd.nextInt(255));
                }
                try {
                    walk(img, outcomes);
                } catch (Throwable t) {
                    fail(kind + " iteration " + i + ": " + t, t);
                } finally {
                    for (int k = flips - 1; k >= 0; k--) {
                        img[at[k]] = old[k];
                    }
                }
            }
        });
        assertTrue(outcomes[0] > 0 && outcomes[1] > 0, "both clean reads and refusals expected: " + outcomes[0] + "/" + outcomes[1]);
    }

    /** Opens and reads everything reachable; returns the Ext4Exceptions met and counts clean (outcomes[0]) and damaged walks. */
    static int walk(byte[] img, int[] outcomes) throws Exception {
        MemChannel ch = new MemChannel(img, 0, img.length);
        int errors = 0;
        Ext4 fs;
        try {
            fs = Ext4.open(ch, 0, img.length);
        } catch (Ext4Exception e) {
            outcomes[1]++;
            return 1;
        }
        List<String> todo = new ArrayList<>(List.of("/"));
        int visited = 0;
        while (!todo.isEmpty() && visited < 500) {
            String dir = todo.remove(todo.size() - 1);
            List<String> names;
            try {
                names = fs.list(dir);
            } catch (Ext4Exception e) {
                errors++;
                continue;
            }
            for (String n : names) {
                String p = (dir.equals("/") ? "" : dir) + "/" + n;
                visited++;
                try {
                    fs.readFile(p, 8 << 20);
                } catch (Ext4Exception e) {
                    if (!e.getMessage().contains("is a directory")) {
                        errors++;
                    } else if (p.split("/").length < 6) {
                        todo.add(p);
                    }
                }
                try {
                    fs.readLink(p);
                } catch (Ext4Exception e) {
                    errors += e.getMessage().contains("not a symbolic link") ? 0 : 1;
                }
            }
        }
        if (ch.outsideReads() != 0) {
            throw new AssertionError("read outside the window");
        }
        outcomes[errors <= LOOPS ? 0 : 1]++;
        return errors;
    }
}
