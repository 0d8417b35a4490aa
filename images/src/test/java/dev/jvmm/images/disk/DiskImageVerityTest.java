package dev.jvmm.images.disk;

import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.boot.verity.VerityException;
import dev.jvmm.boot.verity.VerityTable;
import dev.jvmm.boot.verity.VerityTree;
import dev.jvmm.images.firmware.Firmware;
import dev.jvmm.images.firmware.FirmwareException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `verify` checks a slot with the table the guest's kernel will use (grub.cfg's default entry
 * through jvmm's GRUB interpreter, or the KERN header), refuses a superblock, salt or device that
 * disagrees with it, and answers every hostile table and KERN header with one VerityException
 * line, the image unchanged.
 */
class DiskImageVerityTest {
    @TempDir
    static Path tmp;

    static Path cos;
    static Path bottlerocket;

    @BeforeAll
    static void build() throws Exception {
        cos = SyntheticImages.build(Layout.COS, "v1", tmp.resolve("cos.img"));
        bottlerocket = SyntheticImages.build(Layout.BOTTLEROCKET, "v1", tmp.resolve("br.img"));
    }

    static Path copy(Path img, String name) throws Exception {
        return Files.copy(img, tmp.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    static byte[] sha256(Path f) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f));
    }

    /** verify's refusal of slot A: one line naming the slot and mentioning {@code fragment}; the file unchanged. */
    static void assertSlotARefused(Path img, String fragment) throws Exception {
        byte[] before = sha256(img);
        DiskImage d = DiskImage.open(img);
        VerityException e = assertThrows(VerityException.class, () -> d.verifySlot(d.slot("A")), fragment);
        assertTrue(e.getMessage().startsWith("slot A: ") && e.getMessage().contains(fragment),
                "'" + e.getMessage() + "' should mention '" + fragment + "'");
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertArrayEquals(before, sha256(img), "the image is unchanged");
    }

    @Test
    void bothLayoutsVerifyWithTheirKernelsTable() throws Exception {
        for (Path img : List.of(cos, bottlerocket)) {
            DiskImage d = DiskImage.open(img);
            DiskImage.SlotInfo a = d.slot("A");
            d.verifySlot(a);
            assertEquals(SyntheticImages.DATA_BLOCKS, a.table().dataBlocks());
            assertEquals("v1", a.version());
            assertFalse(d.slot("B").populated());
        }
    }

    @Test
    void aTreeCoveringHalfTheTablesBlocksIsRefusedOnBothLayouts() throws Exception {
        // The case: superblock and tree over 8 of 16 blocks, the kernel's table over all
        // 16 with the short tree's root, a corrupt block 12. Trusting the superblock passed it.
        Path c = copy(cos, "half-cos.img");
        VerityTree.Params half = SyntheticImages.reformatTree(c, Layout.COS, "v1", 8);
        VerityTree.Params claimed = new VerityTree.Params(16, half.rootHash(), half.salt(), half.uuid());
        SyntheticImages.writeKernHeader(c, "A", new KernelPartition("v1", ImageBuilder.cosCmdline(claimed),
                KernelPartition.HEADER).header());
        corruptRootBlock(c, "ROOT-A", 12);
        assertSlotARefused(c, "the verity superblock says 8 data blocks but the table the kernel uses says 16");

        Path b = copy(bottlerocket, "half-br.img");
        half = SyntheticImages.reformatTree(b, Layout.BOTTLEROCKET, "v1", 8);
        claimed = new VerityTree.Params(16, half.rootHash(), half.salt(), half.uuid());
        SyntheticImages.writeGrubCfg(b, "A", ImageBuilder.bottlerocketGrubCfg("v1", claimed));
        corruptRootBlock(b, "BOTTLEROCKET-ROOT-A", 12);
        assertSlotARefused(b, "the verity superblock says 8 data blocks but the table the kernel uses says 16");
    }

    static void corruptRootBlock(Path img, String root, long block) throws Exception {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = Gpt.read(ch).byName(root).orElseThrow().offsetBytes() + block * VerityTree.BLOCK + 5;
            ch.write(ByteBuffer.wrap(new byte[] {0x55, 0x66}), at);
        }
    }

    @Test
    void anUpgradeFromAnImageWhoseTableDisagreesChangesNothing() throws Exception {
        Path source = copy(cos, "bad-source.img");
        VerityTree.Params half = SyntheticImages.reformatTree(source, Layout.COS, "v1", 8);
        SyntheticImages.writeKernHeader(source, "A", new KernelPartition("v2", ImageBuilder.cosCmdline(
                new VerityTree.Params(16, half.rootHash(), half.salt(), half.uuid())), KernelPartition.HEADER).header());
        Path target = copy(cos, "target.img");
        byte[] before = sha256(target);
        DiskImage t = DiskImage.open(target);
        VerityException e = assertThrows(VerityException.class, () -> t.upgradeFrom(DiskImage.open(source), null, 3));
        assertTrue(e.getMessage().contains("superblock says 8"), e.getMessage());
        assertArrayEquals(before, sha256(target), "the target is unchanged");
    }

    // ---- hostile tables in the KERN command line (COS) and grub.cfg (Bottlerocket)

    /** One hostile boot record: how to spoil slot A's command line, and what the refusal mentions. */
    record Case(String name, UnaryOperator<String> spoil, String fragment) {}

    static String good() throws Exception {
        DiskImage d = DiskImage.open(cos);
        return d.slot("A").cmdline();
    }

    static List<Case> cosTableCases() throws Exception {
        VerityTable t = DiskImage.open(cos).slot("A").table();
        String blocks = " " + t.dataBlocks() + " " + t.hashStartBlock() + " sha256";
        return List.of(
                new Case("no table", c -> c.replaceFirst("dm-mod.create=", "dm-mod.xcreate="), "no dm-mod.create"),
                new Case("data device is KERN-B", c -> c.replaceFirst("PARTNROFF=1", "PARTNROFF=2"), "data device is partition 4"),
                new Case("hash device on another disk", c -> c.replace("PARTNROFF=1 4096", "PARTNROFF=1x 4096"),
                        "is not a PARTUUID"),
                new Case("hash device by name", c -> c.replaceFirst("PARTUUID=\\$kern_guid/PARTNROFF=1 4096",
                        "/dev/vda3 4096"), "is not a PARTUUID"),
                new Case("unknown PARTUUID", c -> c.replaceFirst("\\$kern_guid", "01234567-89ab-cdef-0123-456789abcdef"),
                        "is not a PARTUUID"),
                new Case("20-digit data blocks", c -> c.replace(blocks, " 99999999999999999999 17 sha256"), "data block count"),
                new Case("data blocks -1", c -> c.replace(blocks, " -1 17 sha256"), "data block count"),
                new Case("20-digit hash start", c -> c.replace(blocks, " 16 99999999999999999999 sha256"), "hash start block"),
                new Case("hash start 0", c -> c.replace(blocks, " 16 0 sha256"), "overlaps the 16 data blocks"),
                new Case("hash start inside the data", c -> c.replace(blocks, " 16 8 sha256"), "overlaps the 16 data blocks"),
                new Case("hash start past the partition", c -> c.replace(blocks, " 16 4000 sha256"), "hash partition too small"),
                new Case("more blocks than the partition", c -> c.replace(blocks, " 32 33 sha256")
                        .replaceFirst(",0 128 verity", ",0 256 verity"), "holds"),
                new Case("fewer blocks than the superblock", c -> c.replace(blocks, " 8 17 sha256")
                        .replaceFirst(",0 128 verity", ",0 64 verity"), "superblock says 16"),
                new Case("another salt", c -> c.replace(t.saltHex(), "00".repeat(16)), "salt differs"),
                new Case("another root hash", c -> c.replace(t.rootHex(), "00".repeat(32)), "root hash"),
                new Case("sha1", c -> c.replace(" sha256 ", " sha1 "), "'sha1'"));
    }

    @Test
    void hostileKernTablesAreEachRefusedInOneLine() throws Exception {
        String cmdline = good();
        List<Case> cases = cosTableCases();
        for (Case k : cases) {
            Path img = copy(cos, "table.img");
            String spoilt = k.spoil().apply(cmdline);
            assertFalse(spoilt.equals(cmdline), k.name() + ": the case changes the command line");
            SyntheticImages.writeKernHeader(img, "A", new KernelPartition("v1", spoilt, KernelPartition.HEADER).header());
            assertSlotARefused(img, k.fragment());
        }
        assertEquals(16, cases.size(), "KERN table corpus size, reported in the issue's closing note");
    }

    @Test
    void bottlerocketTakesTheTableFromGrubsDefaultEntry() throws Exception {
        DiskImage.SlotInfo a = DiskImage.open(bottlerocket).slot("A");
        String cfg = ImageBuilder.bottlerocketGrubCfg("v1", new VerityTree.Params(a.dataBlocks(),
                HexFormat.of().parseHex(a.rootHash()), HexFormat.of().parseHex(a.salt()), new byte[16]));
        // The default entry is the second; a first entry with a spoilt table must not matter, and vice versa.
        String decoy = cfg.substring(cfg.indexOf("menuentry")).replace("jvmm container OS v1", "decoy")
                .replace("PARTNROFF=2", "PARTNROFF=3").replace("dm-mod.create=\"$dm_verity_root\"",
                        "dm-mod.create=\"root,,,ro,0 8 verity 1 a b 4096 4096 1 1 sha256 " + "00".repeat(32) + " -\"");
        Path img = copy(bottlerocket, "grub-default.img");
        SyntheticImages.writeGrubCfg(img, "A", cfg.replace("set default=\"0\"", "set default=\"1\"")
                .replace("menuentry", decoy + "menuentry"));
        DiskImage d = DiskImage.open(img);
        d.verifySlot(d.slot("A"));
        SyntheticImages.writeGrubCfg(img, "A", cfg.replace("menuentry", decoy + "menuentry"));
        assertSlotARefused(img, "data device");
        SyntheticImages.writeGrubCfg(img, "A", cfg.replace("set default=\"0\"", "set default=\"7\""));
        assertSlotARefused(img, "grub.cfg: default entry 7");
        SyntheticImages.writeGrubCfg(img, "A", cfg.replace("PARTNROFF=2", "PARTNROFF=1"));
        assertSlotARefused(img, "hash device is partition " + d.slot("A").root().number());
    }

    @Test
    void aDamagedBootFileSystemIsRefusedNotReadAsAnEmptySlot() throws Exception {
        Path img = copy(bottlerocket, "damaged-boot.img");
        long boot;
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            boot = Gpt.read(ch).byName("BOTTLEROCKET-BOOT-A").orElseThrow().offsetBytes();
            // s_log_block_size (superblock + 0x18) of 40: a hostile block size, magic intact.
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 40), boot + 1024 + 0x18);
        }
        assertSlotARefused(img, "BOTTLEROCKET-BOOT-A (ext4): ");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(2), boot + 1024 + 0x38); // no magic: never written
        }
        assertFalse(DiskImage.open(img).slot("A").populated(), "a BOOT partition with no file system is an empty slot");
    }

    // ---- hostile KERN headers

    static byte[] header(Consumer<ByteBuffer> spoil) throws Exception {
        byte[] h = new KernelPartition("v1", good(), KernelPartition.HEADER).header();
        spoil.accept(ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN));
        return h;
    }

    record Header(String name, byte[] bytes, String fragment) {}

    static List<Header> hostileKernHeaders() throws Exception {
        List<Header> h = new ArrayList<>();
        h.add(new Header("format version 2", header(b -> b.putInt(8, 2)), "format version 2"));
        h.add(new Header("command line length -1", header(b -> b.putInt(12, -1)), "command line length 4294967295"));
        h.add(new Header("command line length 5000", header(b -> b.putInt(12, 5000)), "command line length 5000"));
        h.add(new Header("kernel offset 0", header(b -> b.putLong(16, 0)), "kernel offset 0"));
        h.add(new Header("kernel offset 2^64-1", header(b -> b.putLong(16, -1)), "kernel offset 18446744073709551615"));
        h.add(new Header("kernel size 0", header(b -> b.putLong(24, 0)), "kernel size 0"));
        h.add(new Header("kernel size -1", header(b -> b.putLong(24, -1)), "kernel size 18446744073709551615"));
        h.add(new Header("kernel size wraps the offset", header(b -> b.putLong(24, Long.MAX_VALUE - 100)),
                "kernel size " + (Long.MAX_VALUE - 100) + " does not fit"));
        h.add(new Header("kernel size past the partition", header(b -> b.putLong(24, 3L * KernelPartition.HEADER)),
                "kernel size 12288 does not fit"));
        h.add(new Header("NUL in the command line", header(b -> b.put(130, (byte) 0)),
                "command line byte 2 is not printable"));
        h.add(new Header("newline in the command line", header(b -> b.put(130, (byte) '\n')),
                "command line byte 2 is not printable"));
        return h;
    }

    @Test
    void hostileKernHeadersAreEachRefusedByVerifyAndTheFirmware() throws Exception {
        List<Header> cases = hostileKernHeaders();
        for (Header k : cases) {
            Path img = copy(cos, "kern.img");
            SyntheticImages.writeKernHeader(img, "A", k.bytes());
            assertSlotARefused(img, "KERN-A header is damaged: " + k.fragment());
            byte[] before = sha256(img);
            FirmwareException e = assertThrows(FirmwareException.class, () -> Firmware.inspect(img), k.name());
            assertTrue(e.getMessage().contains(k.fragment()), k.name() + ": " + e.getMessage());
            assertArrayEquals(before, sha256(img), k.name() + ": unchanged");
        }
        assertEquals(11, cases.size(), "KERN header corpus size, reported in the issue's closing note");
        Path empty = copy(cos, "no-header.img");
        SyntheticImages.writeKernHeader(empty, "A", "NOTAKERN".getBytes(StandardCharsets.US_ASCII));
        assertFalse(DiskImage.open(empty).slot("A").populated(), "no magic: an empty slot, not a damaged one");
    }

    @Test
    void kernHeaderByteFlipsOnlyEverVerifyOrRaiseTypedErrors() throws Exception {
        byte[] good = header(b -> { });
        int end = 128 + ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getInt(12);
        Path img = copy(cos, "fuzz.img");
        Random r = new Random(9);
        int verified = 0;
        int refused = 0;
        for (int i = 0; i < 1500; i++) {
            byte[] h = good.clone();
            for (int n = 1 + r.nextInt(3); n > 0; n--) {
                h[r.nextInt(end)] ^= (byte) (1 << r.nextInt(8));
            }
            SyntheticImages.writeKernHeader(img, "A", h);
            try {
                DiskImage d = DiskImage.open(img);
                d.verifySlot(d.slot("A"));
                verified++;
            } catch (VerityException | GptException e) {
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
                refused++;
            } catch (RuntimeException e) {
                throw new AssertionError("KERN fuzz seed 9 iteration " + i + ": " + e, e);
            }
            try {
                Firmware.inspect(img);
            } catch (FirmwareException e) {
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
            } catch (RuntimeException e) {
                throw new AssertionError("KERN fuzz (firmware) seed 9 iteration " + i + ": " + e, e);
            }
        }
        System.out.println("KERN header fuzz, seed 9, 1500 mutants: verified=" + verified + ", refused=" + refused);
        assertTrue(refused > 0 && verified > 0, verified + " verified, " + refused + " refused");
    }
}
