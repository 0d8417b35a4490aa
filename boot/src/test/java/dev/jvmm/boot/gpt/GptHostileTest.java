package dev.jvmm.boot.gpt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A corpus of hostile GPT headers and entries, written into both copies with valid CRCs so that
 * the field itself is what the reader meets: every one is a GptException of one line (status 1 at
 * the CLI, never a bare "Negative position" read as a usage error), and neither reading nor
 * repair changes the file.
 */
class GptHostileTest {
    @TempDir
    Path tmp;

    static final long SECTORS = 8192; // 4 MiB
    static final Guid LINUX = Guid.parse("0FC63DAF-8483-4772-8E79-3D69D8477DE4");

    Path good() throws Exception {
        Path f = tmp.resolve("good.img");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(1), SECTORS * Gpt.SECTOR - 1);
            Gpt.create(SECTORS, Guid.derive("disk"), List.of(
                    new GptPartition(1, LINUX, Guid.derive("a"), 2048, 4095, 0, "A"),
                    new GptPartition(2, LINUX, Guid.derive("b"), 4096, 6143, 0, "B"))).write(ch);
        }
        return f;
    }

    /** One hostile disk: what to spoil in each copy's header (and entries), and what the refusal mentions. */
    record Case(String name, Consumer<ByteBuffer> header, Consumer<ByteBuffer> entries, String fragment) {}

    static Case header(String name, Consumer<ByteBuffer> h, String fragment) {
        return new Case(name, h, e -> { }, fragment);
    }

    static Case entry(String name, Consumer<ByteBuffer> e, String fragment) {
        return new Case(name, h -> { }, e, fragment);
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(header("entries LBA 2^55 (x512 wraps to 0)", h -> h.putLong(72, 1L << 55), "outside the disk"));
        c.add(header("entries LBA -1", h -> h.putLong(72, -1), "outside the disk"));
        c.add(header("entries LBA 0", h -> h.putLong(72, 0), "outside the disk"));
        c.add(header("entries LBA past the disk", h -> h.putLong(72, SECTORS), "outside the disk"));
        c.add(header("0 entries", h -> h.putInt(80, 0), "0 partition entries"));
        c.add(header("2^31-1 entries", h -> h.putInt(80, Integer.MAX_VALUE), "2147483647 partition entries"));
        c.add(header("2^32-1 entries", h -> h.putInt(80, -1), "4294967295 partition entries"));
        c.add(header("entry size 0", h -> h.putInt(84, 0), "entry size 0"));
        c.add(header("entry size 127", h -> h.putInt(84, 127), "entry size 127"));
        c.add(header("entry size -128", h -> h.putInt(84, -128), "entry size -128"));
        c.add(header("entry size 1 MiB", h -> h.putInt(84, 1 << 20), "entry size 1048576"));
        c.add(header("header size 0", h -> h.putInt(12, 0), "header size 0"));
        c.add(header("header size 2^31-1", h -> h.putInt(12, Integer.MAX_VALUE), "header size 2147483647"));
        c.add(header("my LBA 2^63-1", h -> h.putLong(24, Long.MAX_VALUE), "says it is at LBA"));
        c.add(header("other LBA -1", h -> h.putLong(32, -1), "LBA -1"));
        c.add(header("first usable -1", h -> h.putLong(40, -1), "usable area"));
        c.add(header("last usable 2^63-1", h -> h.putLong(48, Long.MAX_VALUE), "usable area"));
        c.add(header("first usable after last", h -> h.putLong(40, 5000).putLong(48, 4000), "usable area"));
        c.add(header("no signature", h -> h.putLong(0, 0), "signature"));
        c.add(entry("partition first LBA -1", e -> e.putLong(32, -1), "lies outside the usable area"));
        c.add(entry("partition first LBA 2^55 (x512 wraps)", e -> e.putLong(32, 1L << 55), "ends before it starts"));
        c.add(entry("partition last LBA 2^63-1", e -> e.putLong(40, Long.MAX_VALUE), "lies outside the usable area"));
        c.add(entry("partition ends before it starts", e -> e.putLong(40, 100), "ends before it starts"));
        c.add(entry("partitions overlap", e -> e.putLong(128 + 32, 4000), "overlap"));
        c.add(entry("partition over the backup", e -> e.putLong(128 + 40, SECTORS - 1), "lies outside the usable area"));
        return c;
    }

    /** Applies {@code c} to both copies, recomputing the entries' and headers' CRCs as an attacker would. */
    static void spoil(Path f, Case c) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (long lba : new long[] {1, SECTORS - 1}) {
                ByteBuffer h = ByteBuffer.allocate(Gpt.SECTOR).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(h, lba * Gpt.SECTOR);
                long entriesAt = h.getLong(72) * Gpt.SECTOR;
                ByteBuffer e = ByteBuffer.allocate(Gpt.DEFAULT_ENTRIES * Gpt.ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(e, entriesAt);
                c.entries().accept(e);
                ch.write(e.clear(), entriesAt);
                h.putInt(88, (int) crc(e.array(), e.capacity()));
                c.header().accept(h);
                h.putInt(16, 0);
                int size = h.getInt(12);
                h.putInt(16, (int) crc(h.array(), size >= 0 && size <= Gpt.SECTOR ? size : Gpt.HEADER_SIZE));
                ch.write(h.clear(), lba * Gpt.SECTOR);
            }
        }
    }

    static long crc(byte[] b, int len) {
        CRC32 c = new CRC32();
        c.update(b, 0, len);
        return c.getValue();
    }

    @Test
    void hostileGptsAreEachRefusedInOneLineAndNeverChanged() throws Exception {
        Path good = good();
        List<Case> cases = cases();
        for (Case c : cases) {
            Path f = Files.copy(good, tmp.resolve("hostile.img"), StandardCopyOption.REPLACE_EXISTING);
            spoil(f, c);
            byte[] before = Files.readAllBytes(f);
            GptException e;
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                e = assertThrows(GptException.class, () -> Gpt.readRecovering(ch), c.name());
            }
            assertTrue(e.getMessage().startsWith("no valid GPT: primary GPT") && e.getMessage().contains(c.fragment()),
                    c.name() + ": '" + e.getMessage() + "' should mention '" + c.fragment() + "'");
            assertFalse(e.getMessage().contains("\n"), c.name());
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                assertThrows(GptException.class, () -> Gpt.repair(ch), c.name() + ": nothing to repair from");
            }
            assertArrayEquals(before, Files.readAllBytes(f), c.name() + ": the file is unchanged");
            sgdiskAgrees(f, c);
        }
        assertEquals(25, cases.size(), "GPT corpus size, reported in the issue's closing note");
    }

    /**
     * sgdisk -v warns about or fails on every case but one: without the signature it sees no GPT
     * and offers a new one. (It aborts with std::bad_alloc on 2^31-1 and 2^32-1 entries, which
     * jvmm refuses in one line, and only warns before correcting a bad header size.)
     */
    static final Set<String> SGDISK_TOLERATES = Set.of("no signature");

    static void sgdiskAgrees(Path f, Case c) throws Exception {
        if (!GptTest.have("sgdisk")) {
            return;
        }
        Process p = new ProcessBuilder("sgdisk", "-v", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        int rc = p.waitFor();
        boolean complains = rc != 0 || out.contains("Problem") || out.contains("Warning") || out.contains("Caution")
                || out.contains("Error");
        assertEquals(!SGDISK_TOLERATES.contains(c.name()), complains, c.name() + ": sgdisk -v says (rc " + rc + ") " + out);
    }

    @Test
    void theCorpusSpoilsOnlyWhatItNames() throws Exception {
        Path f = good();
        spoil(f, header("nothing", h -> { }, ""));
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            assertEquals(GptRead.State.BOTH_VALID, Gpt.readRecovering(ch).state(), "rewriting the CRCs alone changes nothing");
        }
    }
}
