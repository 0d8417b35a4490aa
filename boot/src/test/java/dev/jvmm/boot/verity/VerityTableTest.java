package dev.jvmm.boot.verity;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The verity table is read as the kernel reads dm-mod.create=, hostile tables are refused in one
 * line, and a slot is verified with the table's values: a superblock that disagrees with the
 * table (the "50 of 100 blocks") is refused rather than trusted.
 */
class VerityTableTest {
    @TempDir
    Path tmp;

    static final String ROOT = "ab".repeat(32);
    static final String SALT = "a4b5c6d7e8f90112".repeat(4);

    static String line(String blocks, String hashStart) {
        return "0 800 verity 1 PARTUUID=x/PARTNROFF=1 PARTUUID=x/PARTNROFF=2 4096 4096 " + blocks + " " + hashStart
                + " sha256 " + ROOT + " " + SALT + " 2 restart_on_corruption ignore_zero_blocks";
    }

    @Test
    void commandLinesSplitAsTheKernelSplitsThem() throws Exception {
        List<String[]> p = VerityTable.kernelParams("  ro \"dm-mod.create=root,,,ro,0 8 verity\" a=\"b c\" x --  dm-mod.create=y");
        assertEquals(4, p.size());
        assertArrayEquals(new String[] {"ro", null}, p.get(0));
        assertArrayEquals(new String[] {"dm-mod.create", "root,,,ro,0 8 verity"}, p.get(1), "GRUB's quoting of a word");
        assertArrayEquals(new String[] {"a", "b c"}, p.get(2), "a quoted value");
        assertArrayEquals(new String[] {"x", null}, p.get(3), "parameters stop at --");
        VerityTable t = VerityTable.fromCmdline("console=ttyS0 dm-mod.create=\"vroot,,,ro," + line("100", "1") + "\" panic=10");
        assertEquals(100, t.dataBlocks());
        assertEquals(1, t.hashStartBlock());
        assertEquals(800, t.lengthSectors());
        assertEquals("PARTUUID=x/PARTNROFF=2", t.hashDevice());
        assertEquals(SALT, t.saltHex());
        assertEquals("", VerityTable.parse(line("100", "1").replace(SALT, "-")).saltHex(), "'-' is no salt");
    }

    /** One hostile table, and what its refusal must mention. */
    record Case(String name, String cmdline, String fragment) {}

    static String create(String table) {
        return "ro dm-mod.create=\"root,,,ro," + table + "\"";
    }

    static List<Case> hostileTables() {
        String twenty = "9".repeat(20);
        return List.of(
                new Case("no dm-mod.create", "ro root=/dev/vda", "no dm-mod.create"),
                new Case("two dm-mod.create", create(line("100", "1")) + " " + create(line("100", "1")), "2 dm-mod.create"),
                new Case("two devices", "dm-mod.create=\"a,,,ro," + line("100", "1") + ";b,,,ro," + line("100", "1") + "\"",
                        "several devices"),
                new Case("two table lines", create(line("100", "1") + "," + line("100", "1")), "several table lines"),
                new Case("too few fields", "dm-mod.create=root", "name,uuid,minor,flags,table"),
                new Case("20-digit data blocks", create(line(twenty, "1")), "data block count"),
                new Case("negative data blocks", create(line("-1", "1")), "data block count"),
                new Case("zero data blocks", create(line("0", "1")), "0 data blocks"),
                new Case("20-digit hash start", create(line("100", twenty)), "hash start block"),
                new Case("hex hash start", create(line("100", "0x1")), "hash start block"),
                new Case("20-digit length", create(line("100", "1").replaceFirst("800", twenty)), "length"),
                new Case("length past the data", create(line("100", "1").replaceFirst("800", "801")), "longer than"),
                new Case("start sector 8", create("8" + line("100", "1").substring(1)), "from 0"),
                new Case("not a verity target", create(line("100", "1").replace("verity", "linear")), "not 'start length verity'"),
                new Case("too few arguments", create("0 800 verity 1 a b 4096 4096 100 1 sha256"), "10 arguments"),
                new Case("format 0", create(line("100", "1").replace("verity 1", "verity 0")), "format 0"),
                new Case("512-byte data blocks", create(line("100", "1").replace("4096 4096", "512 4096")), "block sizes"),
                new Case("md5", create(line("100", "1").replace("sha256", "md5")), "'md5'"),
                new Case("short root hash", create(line("100", "1").replace(ROOT, "abcd")), "root hash"),
                new Case("root hash not hex", create(line("100", "1").replace(ROOT, "zz".repeat(32))), "root hash"),
                new Case("odd-length salt", create(line("100", "1").replace(SALT, "abc")), "salt"),
                new Case("300-byte salt", create(line("100", "1").replace(SALT, "ab".repeat(300))), "salt"));
    }

    @Test
    void hostileTablesAreEachRefusedInOneLine() {
        List<Case> cases = hostileTables();
        for (Case k : cases) {
            VerityException e = assertThrows(VerityException.class, () -> VerityTable.fromCmdline(k.cmdline()), k.name());
            assertTrue(e.getMessage().contains(k.fragment()), k.name() + ": '" + e.getMessage() + "' should mention '"
                    + k.fragment() + "'");
            assertFalse(e.getMessage().contains("\n"), k.name());
            assertTrue(e.getMessage().length() < 300, k.name() + ": one short line, hostile text abbreviated");
        }
        assertEquals(22, cases.size(), "verity table corpus size, reported in the issue's closing note");
    }

    // ---- verifying with the table

    record Disk(Path data, Path hash, VerityTree.Params formatted) {}

    /** 100 data blocks; the tree (superblock at block 0) formatted over {@code treeBlocks} of them. */
    Disk disk(long treeBlocks) throws Exception {
        Path data = tmp.resolve("data-" + treeBlocks);
        byte[] b = new byte[100 * VerityTree.BLOCK];
        new Random(treeBlocks).nextBytes(b);
        Files.write(data, b);
        Path hash = tmp.resolve("hash-" + treeBlocks);
        try (FileChannel d = FileChannel.open(data, StandardOpenOption.READ);
             FileChannel h = FileChannel.open(hash, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            VerityTree.Params p = VerityTree.format(d, 0, treeBlocks, h, 0, HexFormat.of().parseHex(SALT), new byte[16]);
            h.write(ByteBuffer.allocate(4 * VerityTree.BLOCK), h.size()); // room, as a HASH partition has
            return new Disk(data, hash, p);
        }
    }

    static VerityTable table(long blocks, long hashStart, String root, String salt) {
        return new VerityTable(blocks * 8, "d", "h", blocks, hashStart, root, salt);
    }

    static void verify(Disk d, VerityTable t) throws Exception {
        try (FileChannel data = FileChannel.open(d.data(), StandardOpenOption.READ);
             FileChannel hash = FileChannel.open(d.hash(), StandardOpenOption.READ)) {
            VerityTree.verify(data, hash, t);
        }
    }

    static void flip(Path f, long at) throws Exception {
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            c.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 1)).rewind();
            c.write(one, at);
        }
    }

    @Test
    void aSuperblockCoveringHalfTheTableIsRefusedNotTrusted() throws Exception {
        // The case: the superblock and tree cover 50 blocks, the kernel's table says 100
        // with the 50-block root, and block 75 is corrupt. Trusting the superblock passed it.
        Disk d = disk(50);
        flip(d.data(), 75L * VerityTree.BLOCK + 9);
        VerityException e = assertThrows(VerityException.class, () -> verify(d, table(100, 1, d.formatted().rootHex(), SALT)));
        assertEquals("the verity superblock says 50 data blocks but the table the kernel uses says 100", e.getMessage());
    }

    /** veritysetup verify as the kernel sees the table (--no-superblock), or trusting the superblock; its exit status. */
    static int veritysetup(Disk d, String root, long blocks, boolean superblock) throws Exception {
        List<String> argv = new ArrayList<>(List.of("veritysetup", "verify"));
        if (superblock) {
            argv.add("--hash-offset=0");
        } else {
            argv.addAll(List.of("--no-superblock", "--format=1", "--hash=sha256", "--data-block-size=4096",
                    "--hash-block-size=4096", "--data-blocks=" + blocks, "--hash-offset=4096", "--salt=" + SALT));
        }
        argv.addAll(List.of(d.data().toString(), d.hash().toString(), root));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    @Test
    void veritysetupSeesWhatTheKernelSeesAndAgrees() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/veritysetup")), "veritysetup (cryptsetup-bin) is needed");
        Disk good = disk(100);
        assertEquals(0, veritysetup(good, good.formatted().rootHex(), 100, false), "the table's view of a good disk");
        verify(good, table(100, 1, good.formatted().rootHex(), SALT));
        // The case: trusting the 50-block superblock passes; the kernel's 100-block table does not.
        Disk half = disk(50);
        flip(half.data(), 75L * VerityTree.BLOCK + 9);
        String root = half.formatted().rootHex();
        assertEquals(0, veritysetup(half, root, 100, true), "veritysetup trusting the superblock passes it");
        assertTrue(veritysetup(half, root, 100, false) != 0, "veritysetup with the kernel's table refuses it");
        assertThrows(VerityException.class, () -> verify(half, table(100, 1, root, SALT)));
    }

    @Test
    void theTablesValuesFindACorruptBlock() throws Exception {
        Disk d = disk(100);
        VerityTable t = table(100, 1, d.formatted().rootHex(), SALT);
        verify(d, t); // intact
        flip(d.data(), 75L * VerityTree.BLOCK + 9);
        VerityException e = assertThrows(VerityException.class, () -> verify(d, t));
        assertTrue(e.getMessage().startsWith("data block 75 "), e.getMessage());
    }

    @Test
    void tablesThatDisagreeWithTheDiskAreRefused() throws Exception {
        Disk d = disk(100);
        String root = d.formatted().rootHex();
        record Bad(VerityTable t, String fragment) {}
        List<Bad> bad = List.of(
                new Bad(table(100, 1, root, "00".repeat(32)), "salt differs"),
                new Bad(table(100, 1, root, ""), "salt differs"),
                new Bad(table(100, 0, root, SALT), "hash start block 0"),
                new Bad(table(100, 1L << 50, root, SALT), "hash partition too small"),
                new Bad(table(100, 2, root, SALT), "no verity superblock"),
                new Bad(table(101, 1, root, SALT), "holds 100"),
                new Bad(table(1L << 40, 1, root, SALT), "holds 100"),
                new Bad(table(100, 1, "00".repeat(32), SALT), "root hash mismatch"));
        for (Bad b : bad) {
            VerityException e = assertThrows(VerityException.class, () -> verify(d, b.t()), b.fragment());
            assertTrue(e.getMessage().contains(b.fragment()), "'" + e.getMessage() + "' should mention '" + b.fragment() + "'");
        }
    }

    @Test
    void hostileSuperblockFieldsAreVerityErrors() throws Exception {
        Disk d = disk(100);
        byte[] root = d.formatted().rootHash();
        record Field(int offset, long value, int width, String fragment) {}
        List<Field> fields = List.of(
                new Field(72, -1, 8, "data blocks"),            // was NegativeArraySizeException
                new Field(72, 0, 8, "data blocks"),
                new Field(72, Long.MAX_VALUE, 8, "data blocks"),
                new Field(80, 0xffff, 2, "salt size"),
                new Field(0, 0, 8, "no verity superblock"),
                new Field(8, 2, 4, "unsupported"),
                new Field(64, 512, 4, "unsupported"),
                new Field(32, 0x35646d, 8, "unsupported"));       // "md5"
        for (Field f : fields) {
            Path hash = tmp.resolve("sb-" + f.offset() + "-" + f.value());
            Files.copy(d.hash(), hash);
            try (FileChannel h = FileChannel.open(hash, StandardOpenOption.WRITE)) {
                ByteBuffer v = ByteBuffer.allocate(f.width()).order(ByteOrder.LITTLE_ENDIAN);
                if (f.width() == 8) {
                    v.putLong(f.value());
                } else if (f.width() == 4) {
                    v.putInt((int) f.value());
                } else {
                    v.putShort((short) f.value());
                }
                h.write(v.flip(), f.offset());
            }
            try (FileChannel data = FileChannel.open(d.data(), StandardOpenOption.READ);
                 FileChannel h = FileChannel.open(hash, StandardOpenOption.READ)) {
                VerityException e = assertThrows(VerityException.class, () -> VerityTree.verify(data, 0, h, 0, root),
                        "superblock offset " + f.offset());
                assertTrue(e.getMessage().contains(f.fragment()), e.getMessage());
                VerityException e2 = assertThrows(VerityException.class,
                        () -> VerityTree.verify(data, h, table(100, 1, d.formatted().rootHex(), SALT)));
                assertNull(e2.getCause(), e2.getMessage());
            }
        }
    }
}
