package dev.jvmm.boot.gpt;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GptTest {
    @TempDir
    Path tmp;

    static final Guid LINUX = Guid.parse("0FC63DAF-8483-4772-8E79-3D69D8477DE4");
    static final Guid KERNEL = Guid.parse("FE3A2A5D-4F32-41A7-B725-ACCC3285A309");
    static final long SECTORS = (64L << 20) / Gpt.SECTOR;

    static String sh(Path dir, String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        int rc = p.waitFor();
        if (rc != 0) {
            throw new AssertionError(String.join(" ", argv) + " failed (" + rc + "): " + out);
        }
        return out;
    }

    static boolean have(String tool) {
        return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/usr/bin", tool));
    }

    Path image() throws IOException {
        Path f = tmp.resolve("disk.img");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(new byte[1]), SECTORS * Gpt.SECTOR - 1);
        }
        return f;
    }

    Gpt sample() throws GptException {
        return Gpt.create(SECTORS, Guid.derive("disk"), List.of(
                new GptPartition(1, LINUX, Guid.derive("p1"), 2048, 4095, 0, "STATE"),
                new GptPartition(2, KERNEL, Guid.derive("p2"), 4096, 6143, 0x0136_0000_0000_0000L, "KERN-A"),
                new GptPartition(4, KERNEL, Guid.derive("p4"), 6144, 8191, 0x000F_0000_0000_0000L, "KERN-B")));
    }

    Path written() throws Exception {
        Path f = image();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            sample().write(ch);
        }
        return f;
    }

    Gpt read(Path f) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            return Gpt.read(ch);
        }
    }

    @Test
    void guidTextFormIsMixedEndian() {
        Guid g = Guid.parse("6b636168-7420-6568-2070-6c616e657421");
        assertEquals("6B636168-7420-6568-2070-6C616E657421", g.toString());
        assertEquals(0x68, g.bytes()[0] & 0xff, "first field stored little-endian");
        assertEquals(0x20, g.bytes()[8] & 0xff, "fourth field stored big-endian");
        assertEquals(Guid.derive("x"), Guid.derive("x"));
    }

    @Test
    void sgdiskAndCgptAcceptWhatWeWrite() throws Exception {
        Assumptions.assumeTrue(have("sgdisk") && have("cgpt"), "sgdisk (gdisk) and cgpt are needed");
        Path f = written();
        String v = sh(tmp, "sgdisk", "-v", f.toString());
        assertTrue(v.contains("No problems found"), v);
        String i2 = sh(tmp, "sgdisk", "-i", "2", f.toString());
        assertTrue(i2.contains("Partition GUID code: FE3A2A5D-4F32-41A7-B725-ACCC3285A309"), i2);
        assertTrue(i2.contains("Partition unique GUID: " + Guid.derive("p2")), i2);
        assertTrue(i2.contains("Attribute flags: 0136000000000000"), i2);
        assertTrue(i2.contains("Partition name: 'KERN-A'"), i2);
        assertTrue(i2.contains("First sector: 4096") && i2.contains("Last sector: 6143"), i2);
        assertEquals("6", sh(tmp, "cgpt", "show", "-i", "2", "-P", f.toString()).trim(), "priority");
        assertEquals("3", sh(tmp, "cgpt", "show", "-i", "2", "-T", f.toString()).trim(), "tries");
        assertEquals("1", sh(tmp, "cgpt", "show", "-i", "2", "-S", f.toString()).trim(), "successful");
        assertEquals("15", sh(tmp, "cgpt", "show", "-i", "4", "-P", f.toString()).trim());
        assertEquals(sample().partitions(), read(f).partitions(), "round trip");
    }

    @Test
    void readsGptsWrittenBySgdiskAndCgptIdentically() throws Exception {
        Assumptions.assumeTrue(have("sgdisk") && have("cgpt"), "sgdisk (gdisk) and cgpt are needed");
        Path f = image();
        sh(tmp, "sgdisk", "-o", "-U", "11111111-2222-3333-4444-555555555555",
                "-n", "1:2048:+1M", "-t", "1:" + KERNEL, "-c", "1:KERN-A", "-u", "1:AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE",
                "-n", "3:4096:+2M", "-t", "3:8300", "-c", "3:ROOT-A", f.toString());
        sh(tmp, "cgpt", "add", "-i", "1", "-P", "3", "-T", "5", "-S", "1", f.toString());
        Gpt g = read(f);
        assertEquals("11111111-2222-3333-4444-555555555555", g.diskGuid().toString());
        GptPartition k = g.byNumber(1).orElseThrow();
        assertEquals("KERN-A", k.name());
        assertEquals(KERNEL, k.type());
        assertEquals("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE", k.unique().toString());
        assertEquals(2048, k.firstLba());
        assertEquals(2048 + 2048 - 1, k.lastLba());
        assertEquals(3L << 48 | 5L << 52 | 1L << 56, k.attributes());
        String sg = sh(tmp, "sgdisk", "-i", "1", f.toString());
        assertTrue(sg.contains(String.format("Attribute flags: %016X", k.attributes())), sg);
        assertEquals("ROOT-A", g.byNumber(3).orElseThrow().name());
        assertTrue(g.byNumber(2).isEmpty());
    }

    // ---- damaged tables: each a one-line error, nothing repaired silently

    private static void patch(Path f, long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), offset);
        }
    }

    private void assertRejected(Path f, String fragment) {
        GptException e = assertThrows(GptException.class, () -> read(f));
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should mention '" + fragment + "'");
    }

    @Test
    void badHeaderCrc() throws Exception {
        Path f = written();
        patch(f, Gpt.SECTOR + 40, new byte[] {0x7f}); // first usable LBA, CRC left stale
        assertRejected(f, "primary GPT header CRC mismatch");
    }

    @Test
    void primaryBackupMismatch() throws Exception {
        Path f = written();
        // A valid but different primary: rewrite it for a table with one more partition.
        Gpt other = sample().with(new GptPartition(8, LINUX, Guid.derive("p8"), 10000, 10999, 0, "OEM"));
        byte[] entries = other.entries();
        CRC32 crc = new CRC32();
        crc.update(entries);
        patch(f, 2L * Gpt.SECTOR, entries);
        patch(f, Gpt.SECTOR, other.header(true, crc.getValue()));
        assertRejected(f, "primary and backup GPT disagree");
    }

    @Test
    void truncatedImage() throws Exception {
        Path f = written();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate((SECTORS - 2048) * Gpt.SECTOR);
        }
        assertRejected(f, "truncated");
    }

    @Test
    void millionsOfEntries() throws Exception {
        Path f = written();
        byte[] header = new byte[Gpt.SECTOR];
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ch.read(ByteBuffer.wrap(header), Gpt.SECTOR);
        }
        ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(80, 5_000_000).putInt(16, 0);
        CRC32 crc = new CRC32();
        crc.update(header, 0, 92);
        b.putInt(16, (int) crc.getValue());
        patch(f, Gpt.SECTOR, header);
        assertRejected(f, "5000000 partition entries");
    }

    @Test
    void overlappingOrOutOfDiskPartitionsAreRefused() {
        GptException overlap = assertThrows(GptException.class, () -> Gpt.create(SECTORS, Guid.derive("d"), List.of(
                new GptPartition(1, LINUX, Guid.derive("a"), 2048, 5000, 0, "A"),
                new GptPartition(2, LINUX, Guid.derive("b"), 4096, 6000, 0, "B"))));
        assertTrue(overlap.getMessage().contains("overlap"), overlap.getMessage());
        GptException outside = assertThrows(GptException.class, () -> Gpt.create(SECTORS, Guid.derive("d"), List.of(
                new GptPartition(1, LINUX, Guid.derive("a"), 2048, SECTORS, 0, "A"))));
        assertTrue(outside.getMessage().contains("outside the usable area"), outside.getMessage());
    }

    @Test
    void notAGptAtAll() throws Exception {
        Path f = image();
        assertRejected(f, "no 'EFI PART' signature");
    }
}
