package dev.jvmm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** jvmm image, checked with tools no one here wrote: sgdisk, cgpt, veritysetup, lz4. */
class ImageIT {
    @TempDir
    static Path tmp;
    static Path br;
    static Path cos;
    static Path brV2Lz4;
    static Path cosV2;

    static final ObjectMapper JSON = new ObjectMapper();

    static Jvmm.Result ok(Jvmm.Result r) {
        assertEquals(0, r.status(), r.all());
        return r;
    }

    static Jvmm.Result jvmm(String... args) throws Exception {
        return Jvmm.run(600, args);
    }

    static String sh(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", argv) + ": " + out);
        return out;
    }

    static String sha(Path p) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(p)) {
            byte[] b = new byte[1 << 16];
            int n;
            while ((n = in.read(b)) > 0) {
                md.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static JsonNode status(Path img) throws Exception {
        return JSON.readTree(ok(jvmm("image", "status", "--json", img.toString())).out());
    }

    static JsonNode slot(JsonNode st, String name) {
        for (JsonNode s : st.get("slots")) {
            if (s.get("slot").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no slot " + name);
    }

    static String pts(JsonNode s) {
        return s.get("priority").asInt() + "/" + s.get("triesLeft").asInt() + "/" + (s.get("successful").asBoolean() ? 1 : 0);
    }

    static GptPartition part(Path img, String name) throws Exception {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            return Gpt.read(ch).byName(name).orElseThrow();
        }
    }

    static Path extract(Path img, GptPartition p, String name) throws Exception {
        return Jvmm.extract(img, p, tmp.resolve(name));
    }

    @BeforeAll
    static void build() throws Exception {
        br = tmp.resolve("br.img");
        cos = tmp.resolve("cos.img");
        brV2Lz4 = tmp.resolve("br-2.img.lz4");
        cosV2 = tmp.resolve("cos-2.img");
        ok(jvmm("image", "build", "--out", br.toString()));
        ok(jvmm("image", "build", "--layout", "cos", "--out", cos.toString()));
        ok(jvmm("image", "build", "--version", "2.0.0", "--lz4", "--out", brV2Lz4.toString()));
        ok(jvmm("image", "build", "--layout", "cos", "--version", "2.0.0", "--out", cosV2.toString()));
    }

    @Test
    void buildsAreReproducibleAndSmall() throws Exception {
        Path again = tmp.resolve("br-again.img");
        ok(jvmm("image", "build", "--out", again.toString()));
        assertEquals(sha(br), sha(again), "same inputs, same bytes");
        assertTrue(Files.size(br) < 100L << 20, "tens of MiB, not GiB: " + Files.size(br));
        assertNotEquals(sha(br), sha(cos));
    }

    @Test
    void gptToolsAgreeWithTheLayouts() throws Exception {
        for (Path img : new Path[] {br, cos}) {
            assertTrue(sh("sgdisk", "-v", img.toString()).contains("No problems found"), img.toString());
        }
        String bootA = sh("sgdisk", "-i", "3", br.toString());
        assertTrue(bootA.contains("6B636168-7420-6568-2070-6C616E657421") && bootA.contains("'BOTTLEROCKET-BOOT-A'"), bootA);
        assertTrue(bootA.contains("Attribute flags: 0101000000000000"), "priority 1, successful 1: " + bootA);
        assertTrue(sh("sgdisk", "-i", "8", br.toString()).contains("Attribute flags: 0000000000000000"));
        String[] names = {"BIOS-BOOT", "EFI-A", "BOTTLEROCKET-BOOT-A", "BOTTLEROCKET-ROOT-A", "BOTTLEROCKET-HASH-A",
                "BOTTLEROCKET-RESERVED-A", "EFI-B", "BOTTLEROCKET-BOOT-B", "BOTTLEROCKET-ROOT-B", "BOTTLEROCKET-HASH-B",
                "BOTTLEROCKET-RESERVED-B", "BOTTLEROCKET-PRIVATE", "BOTTLEROCKET-DATA"};
        long previousEnd = 0;
        for (int i = 0; i < names.length; i++) {
            String info = sh("sgdisk", "-i", Integer.toString(i + 1), br.toString());
            assertTrue(info.contains("Partition name: '" + names[i] + "'"), info);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("First sector: (\\d+).*\\n.*Last sector: (\\d+)")
                    .matcher(info);
            assertTrue(m.find(), info);
            long first = Long.parseLong(m.group(1));
            assertEquals(0, first % 2048, names[i] + " is 1 MiB aligned");
            assertTrue(first > previousEnd, names[i] + " follows the previous partition");
            previousEnd = Long.parseLong(m.group(2));
        }
        assertEquals("1", sh("cgpt", "show", "-i", "2", "-P", cos.toString()).trim());
        assertEquals("1", sh("cgpt", "show", "-i", "2", "-S", cos.toString()).trim());
        assertEquals("0", sh("cgpt", "show", "-i", "4", "-P", cos.toString()).trim());
        String kern = sh("cgpt", "show", "-i", "2", "-t", cos.toString()).trim();
        assertEquals("FE3A2A5D-4F32-41A7-B725-ACCC3285A309", kern.toUpperCase());
        assertTrue(sh("cgpt", "show", "-i", "12", "-l", cos.toString()).contains("EFI-SYSTEM"));
        assertTrue(sh("cgpt", "show", "-i", "8", "-l", cos.toString()).contains("OEM"));
    }

    @Test
    void veritysetupVerifiesEverySlotJvmmBuilt() throws Exception {
        JsonNode a = slot(status(br), "A");
        Path root = extract(br, part(br, "BOTTLEROCKET-ROOT-A"), "root-a");
        Path hash = extract(br, part(br, "BOTTLEROCKET-HASH-A"), "hash-a");
        sh("veritysetup", "verify", root.toString(), hash.toString(), a.get("rootHash").asText());
        JsonNode c = slot(status(cos), "A");
        Path cosRoot = extract(cos, part(cos, "ROOT-A"), "cos-root-a");
        long hashOffset = c.get("dataBlocks").asLong() * 4096;
        sh("veritysetup", "verify", "--hash-offset=" + hashOffset, cosRoot.toString(), cosRoot.toString(),
                c.get("rootHash").asText());
        // the kernel command line in BOOT-A carries the same table
        String cfg = sh("debugfs", "-R", "cat /grub/grub.cfg", br + "?offset=" + part(br, "BOTTLEROCKET-BOOT-A").offsetBytes());
        assertTrue(cfg.contains("dm-mod.create=\"$dm_verity_root\"") && cfg.contains("root=/dev/dm-0") && cfg.contains(" ro "), cfg);
        assertTrue(cfg.contains("verity 1 PARTUUID=$boot_uuid/PARTNROFF=1 PARTUUID=$boot_uuid/PARTNROFF=2 4096 4096 "
                + a.get("dataBlocks").asLong() + " 1 sha256 " + a.get("rootHash").asText() + " " + a.get("salt").asText()
                + " 2 restart_on_corruption ignore_zero_blocks"), cfg);
    }

    @Test
    void aFlippedRootByteFailsVerifyAndNamesTheBlock() throws Exception {
        Path img = tmp.resolve("flip.img");
        Files.copy(br, img, StandardCopyOption.REPLACE_EXISTING);
        long at = part(img, "BOTTLEROCKET-ROOT-A").offsetBytes() + 5 * 4096 + 100;
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
        String before = sha(img);
        Jvmm.Result r = jvmm("image", "verify", img.toString());
        assertEquals(1, r.status(), r.all());
        assertTrue(r.err().contains("slot A: data block 5"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertEquals(before, sha(img), "verify never writes");
    }

    @Test
    void lz4FramesBothWays() throws Exception {
        Path raw = tmp.resolve("br-2.img");
        sh("lz4", "-d", "-f", brV2Lz4.toString(), raw.toString());
        assertEquals("2.0.0", slot(status(raw), "A").get("version").asText());
        // frames made by the lz4 tool, with and without content size and checksums, several blocks
        for (String[] flags : new String[][] {{"-B4"}, {"-B4", "--content-size", "--no-frame-crc"}, {"-B7", "-BX"},
                {"-B4", "--no-frame-crc"}}) {
            Path z = tmp.resolve("tool" + String.join("", flags).replace("-", "") + ".img.lz4");
            String[] argv = new String[flags.length + 4];
            argv[0] = "lz4";
            argv[1] = "-f";
            System.arraycopy(flags, 0, argv, 2, flags.length);
            argv[argv.length - 2] = br.toString();
            argv[argv.length - 1] = z.toString();
            sh(argv);
            assertEquals(slot(status(br), "A").get("rootHash"), slot(status(z), "A").get("rootHash"), String.join(" ", flags));
        }
        Path linked = tmp.resolve("linked.img.lz4");
        sh("lz4", "-f", "-BD", br.toString(), linked.toString());
        Jvmm.Result l = jvmm("image", "status", linked.toString());
        assertNotEquals(0, l.status());
        assertTrue(l.err().contains("linked LZ4 blocks (lz4 -BD)"), "a clear word on what is not read: " + l.err());
        Path bad = tmp.resolve("bad.img.lz4");
        byte[] z = Files.readAllBytes(brV2Lz4);
        z[z.length / 2] ^= 0x55;
        Files.write(bad, z);
        Jvmm.Result r = jvmm("image", "status", bad.toString());
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("corrupt lz4 frame"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace");
    }

    @Test
    void bottlerocketUpgradeRollbackCancelMarkSuccessful() throws Exception {
        Path img = tmp.resolve("br-up.img");
        Files.copy(br, img, StandardCopyOption.REPLACE_EXISTING);
        ok(jvmm("image", "upgrade", img.toString(), "--from", brV2Lz4.toString()));
        JsonNode st = status(img);
        assertEquals("B", st.get("nextBoot").asText());
        assertEquals("1/0/1", pts(slot(st, "A")), "active A: priority 1");
        assertEquals("2/1/0", pts(slot(st, "B")), "upgrade-to-inactive: priority 2, one try");
        assertEquals("2.0.0", slot(st, "B").get("version").asText());
        ok(jvmm("image", "verify", img.toString()));
        assertTrue(sh("sgdisk", "-v", img.toString()).contains("No problems found"), "both GPT copies rewritten");
        assertTrue(sh("sgdisk", "-i", "8", img.toString()).contains("Attribute flags: 0012000000000000"));

        Path cancelled = tmp.resolve("br-cancel.img");
        Files.copy(img, cancelled, StandardCopyOption.REPLACE_EXISTING);
        ok(jvmm("image", "cancel-upgrade", cancelled.toString()));
        st = status(cancelled);
        assertEquals("A", st.get("nextBoot").asText());
        assertEquals("2/0/1", pts(slot(st, "A")));
        assertEquals("0/1/0", pts(slot(st, "B")));

        // B booted and is running: mark it good, then roll back to A
        ok(jvmm("image", "mark-successful", img.toString(), "--active", "B"));
        assertEquals("2/1/1", pts(slot(status(img), "B")));
        ok(jvmm("image", "rollback", img.toString(), "--active", "B"));
        st = status(img);
        assertEquals("A", st.get("nextBoot").asText());
        assertEquals("2/0/1", pts(slot(st, "A")));
        assertEquals("1/1/1", pts(slot(st, "B")));

        // a refused rollback changes nothing
        String before = sha(cancelled);
        Jvmm.Result r = jvmm("image", "rollback", cancelled.toString());
        assertEquals(1, r.status(), r.all());
        assertTrue(r.err().contains("would not boot"), r.err());
        assertEquals(before, sha(cancelled));
    }

    @Test
    void cosUpgradeFollowsCgpt() throws Exception {
        Path img = tmp.resolve("cos-up.img");
        Files.copy(cos, img, StandardCopyOption.REPLACE_EXISTING);
        ok(jvmm("image", "upgrade", img.toString(), "--from", cosV2.toString()));
        assertEquals("2", sh("cgpt", "show", "-i", "4", "-P", img.toString()).trim(), "new kernel on top");
        assertEquals("6", sh("cgpt", "show", "-i", "4", "-T", img.toString()).trim(), "default tries");
        assertEquals("0", sh("cgpt", "show", "-i", "4", "-S", img.toString()).trim());
        assertEquals("1", sh("cgpt", "show", "-i", "2", "-P", img.toString()).trim());
        JsonNode st = status(img);
        assertEquals("B", st.get("nextBoot").asText());
        assertEquals("2.0.0", slot(st, "B").get("version").asText());
        ok(jvmm("image", "verify", img.toString()));
        ok(jvmm("image", "mark-successful", img.toString(), "--active", "B"));
        assertEquals("1", sh("cgpt", "show", "-i", "4", "-S", img.toString()).trim());
        assertEquals("0", sh("cgpt", "show", "-i", "4", "-T", img.toString()).trim());
        ok(jvmm("image", "rollback", img.toString(), "--active", "B"));
        assertEquals("2", sh("cgpt", "show", "-i", "2", "-P", img.toString()).trim());
        assertEquals("1", sh("cgpt", "show", "-i", "4", "-P", img.toString()).trim());
        Jvmm.Result mixed = jvmm("image", "upgrade", img.toString(), "--from", br.toString());
        assertEquals(1, mixed.status(), mixed.all());
        assertTrue(mixed.err().contains("cannot upgrade a cos image from a bottlerocket image"), mixed.err());
    }

    @Test
    void badImagesGiveOneLineErrorsAndStayUntouched() throws Exception {
        // truncated
        Path trunc = tmp.resolve("trunc.img");
        Files.copy(br, trunc, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel ch = FileChannel.open(trunc, StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(br) - (1 << 20));
        }
        assertFailsCleanly(trunc, "truncated", "image", "status", trunc.toString());
        assertFailsCleanly(trunc, "truncated", "image", "mark-successful", trunc.toString());
        // bad CRC in the primary header
        Path crc = tmp.resolve("crc.img");
        Files.copy(br, crc, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel ch = FileChannel.open(crc, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0x33}), 512 + 48);
        }
        assertFailsCleanly(crc, "CRC mismatch", "image", "upgrade", crc.toString(), "--from", brV2Lz4.toString());
        // no BOOT/KERN partition at all
        Path plain = tmp.resolve("plain.img");
        try (FileChannel ch = FileChannel.open(plain, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(1), (16L << 20) - 1);
        }
        sh("sgdisk", "-o", "-n", "1:2048:+4M", "-t", "1:8300", plain.toString());
        assertFailsCleanly(plain, "no BOOT or KERN partition", "image", "status", plain.toString());
        // a hash partition too small for its tree: shrink HASH-A to one sector in both GPT copies
        Path small = tmp.resolve("small-hash.img");
        Files.copy(br, small, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel ch = FileChannel.open(small, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Gpt g = Gpt.read(ch);
            GptPartition h = g.byName("BOTTLEROCKET-HASH-A").orElseThrow();
            g.with(new GptPartition(h.number(), h.type(), h.unique(), h.firstLba(), h.firstLba(), h.attributes(), h.name()))
                    .write(ch);
        }
        assertFailsCleanly(small, "hash partition too small", "image", "verify", small.toString());
        // a source image that fails verity is refused before the target changes
        Path target = tmp.resolve("target.img");
        Files.copy(br, target, StandardCopyOption.REPLACE_EXISTING);
        Path badSource = tmp.resolve("bad-source.img");
        sh("lz4", "-d", "-f", brV2Lz4.toString(), badSource.toString());
        try (RandomAccessFile f = new RandomAccessFile(badSource.toFile(), "rw")) {
            f.seek(part(badSource, "BOTTLEROCKET-ROOT-A").offsetBytes() + 1234);
            f.write(0x5a);
        }
        assertFailsCleanly(target, "fails verity", "image", "upgrade", target.toString(), "--from", badSource.toString());
    }

    @Test
    void anInterruptedGptWriteIsReadRefusedAndRepaired() throws Exception {
        // What a crash inside a GPT write can leave: here the backup header is gone, the primary intact.
        Path img = tmp.resolve("half-written.img");
        Files.copy(br, img, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(Gpt.SECTOR), ch.size() - Gpt.SECTOR);
        }
        Jvmm.Result st = jvmm("image", "status", img.toString());
        assertEquals(0, st.status(), st.all());
        assertTrue(st.err().contains("using the primary copy") && st.err().contains("jvmm image repair"), st.err());
        assertFailsCleanly(img, "run 'jvmm image repair", "image", "verify", img.toString());
        assertFailsCleanly(img, "before changing this image", "image", "rollback", img.toString());
        assertEquals("backup GPT rewritten from the primary copy", ok(jvmm("image", "repair", img.toString())).out().strip());
        assertTrue(sh("sgdisk", "-v", img.toString()).contains("No problems found"));
        assertEquals(sha(br), sha(img), "the repaired image is the one built");
        ok(jvmm("image", "verify", img.toString()));
    }

    static void assertFailsCleanly(Path img, String mention, String... args) throws Exception {
        String before = sha(img);
        Jvmm.Result r = jvmm(args);
        assertNotEquals(0, r.status(), r.all());
        assertTrue(r.err().contains(mention), "'" + r.err() + "' should mention '" + mention + "'");
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertEquals(before, sha(img), "a failed command leaves the image as it was");
    }
}
