package dev.jvmm.machine;

import dev.jvmm.boot.x86.BzImagePayload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnpackedKernelsTest {
    @TempDir
    Path dir;

    @Test
    void aMissUnpacksAndCachesAndTheNextBootLoadsTheEntry() throws Exception {
        byte[] bz = bzImage();
        UnpackedKernels.Result first = UnpackedKernels.lookup(dir, bz, UnpackedKernels.Miss.UNPACK_NOW);
        assertNotNull(first.kernel());
        assertTrue(first.note().startsWith("gzip in ") && first.note().endsWith(", cached"), first.note());
        Path entry = dir.resolve(UnpackedKernels.key(bz) + ".elf");
        assertTrue(Files.isRegularFile(entry));
        UnpackedKernels.Result second = UnpackedKernels.lookup(dir, bz, UnpackedKernels.Miss.UNPACK_NOW);
        assertEquals("cached", second.note());
        assertEquals(entry, second.kernel().file());
        assertEquals(first.kernel().segments(), second.kernel().segments());
    }

    @Test
    void aBootMissLeavesThisBootToTheGuestAndUnpacksForTheNext() throws Exception {
        byte[] bz = bzImage();
        UnpackedKernels.Result first = UnpackedKernels.lookup(dir, bz, UnpackedKernels.Miss.UNPACK_LATER);
        assertNull(first.kernel(), "this boot does not wait");
        assertTrue(first.note().contains("jvmm unpacks it for the next boot"), first.note());
        Path entry = dir.resolve(UnpackedKernels.key(bz) + ".elf");
        for (int i = 0; i < 300 && !(Files.isRegularFile(entry) && onlyEntries()); i++) {
            Thread.sleep(100); // the background thread's work: nothing here can join it
        }
        UnpackedKernels.Result second = UnpackedKernels.lookup(dir, bz, UnpackedKernels.Miss.UNPACK_LATER);
        assertEquals("cached", second.note());
        assertNotNull(second.kernel());
    }

    @Test
    void anEntryIsUnpackedByOneThreadAtATime() throws Exception {
        byte[] bz = bzImage();
        Path entry = dir.resolve(UnpackedKernels.key(bz) + ".elf");
        Thread first = UnpackedKernels.unpackLater(entry, bz);
        Thread second = UnpackedKernels.unpackLater(entry, bz); // an image's next pass, before the first is done
        assertNotNull(first);
        if (first.isAlive()) {
            assertNull(second, "a second unpacking of the same entry while the first runs");
        }
        first.join(30_000);
        if (second != null) {
            second.join(30_000);
        }
        assertEquals("cached", UnpackedKernels.lookup(dir, bz, UnpackedKernels.Miss.LEAVE).note());
        Thread after = UnpackedKernels.unpackLater(entry, bz);
        assertNotNull(after, "the entry is free again once its unpacking ended");
        after.join(30_000);
    }

    private boolean onlyEntries() throws Exception {
        try (var files = Files.list(dir)) {
            return files.allMatch(f -> f.getFileName().toString().endsWith(".elf"));
        }
    }

    @Test
    void theCacheKeepsItsNewestEntriesOnlyOneBzImageAfterAnother() throws Exception {
        long now = System.currentTimeMillis();
        for (int i = 0; i < UnpackedKernels.ENTRIES_KEPT; i++) { // older entries of other bzImages
            Path other = Files.writeString(dir.resolve("100-" + i + ".elf"), "an older entry");
            Files.setLastModifiedTime(other, FileTime.fromMillis(now - 3_600_000 + i * 1000L));
        }
        Path partial = Files.writeString(dir.resolve("7.elf.partial-1"), "another jvmm's write");
        byte[] bz = bzImage();
        assertTrue(UnpackedKernels.lookup(dir, bz, UnpackedKernels.Miss.UNPACK_NOW).note().endsWith(", cached"));
        assertTrue(Files.isRegularFile(dir.resolve(UnpackedKernels.key(bz) + ".elf")), "the new entry stays");
        assertTrue(Files.notExists(dir.resolve("100-0.elf")), "the oldest goes");
        assertTrue(Files.exists(dir.resolve("100-1.elf")));
        assertTrue(Files.exists(partial), "a write in progress is not an entry");
        try (var files = Files.list(dir)) {
            assertEquals(UnpackedKernels.ENTRIES_KEPT, files.filter(f -> f.toString().endsWith(".elf")).count());
        }
    }

    @Test
    void partialFilesAnHourOldAreSweptYoungerOnesLeftToTheirWriters() throws Exception {
        Path old = Files.writeString(dir.resolve("k.elf.partial-123"), "x");
        Files.setLastModifiedTime(old, FileTime.fromMillis(System.currentTimeMillis() - 7_200_000));
        Path young = Files.writeString(dir.resolve("j.elf.partial-456"), "y");
        Path entry = Files.writeString(dir.resolve("k.elf"), "z");
        UnpackedKernels.sweepPartials(dir);
        assertTrue(Files.notExists(old));
        assertTrue(Files.exists(young));
        assertTrue(Files.exists(entry));
    }

    @Test
    void theLabsPolicyNeverUnpacksItLeavesAMissToTheGuest() throws Exception {
        UnpackedKernels.Result r = UnpackedKernels.lookup(dir, bzImage(), UnpackedKernels.Miss.LEAVE);
        assertNull(r.kernel());
        assertEquals("not cached: the guest unpacks it", r.note());
        try (var s = Files.list(dir)) {
            assertEquals(0, s.count());
        }
    }

    @Test
    void anEntryWithoutItsTrailerIsDroppedAndMadeAgain() throws Exception {
        byte[] bz = bzImage();
        UnpackedKernels.lookup(dir, bz, UnpackedKernels.Miss.UNPACK_NOW);
        Path entry = dir.resolve(UnpackedKernels.key(bz) + ".elf");
        byte[] whole = Files.readAllBytes(entry);
        Files.write(entry, Arrays.copyOf(whole, whole.length - 3)); // cut short
        UnpackedKernels.Result r = UnpackedKernels.lookup(dir, bz, UnpackedKernels.Miss.UNPACK_NOW);
        assertTrue(r.note().startsWith("gzip in "), r.note());
        assertEquals(whole.length, Files.size(entry));
    }

    @Test
    void theKeyTellsApartBzImagesThatDifferInOneByteOrAreNotUnpackable() throws Exception {
        byte[] bz = bzImage();
        byte[] other = bz.clone();
        other[other.length / 2] ^= 1;
        assertNotEquals(UnpackedKernels.key(bz), UnpackedKernels.key(other));
        byte[] zstd = bz.clone();
        zstd[1024] = 0x28;
        zstd[1025] = (byte) 0xb5;
        zstd[1026] = 0x2f;
        zstd[1027] = (byte) 0xfd;
        assertEquals("the guest unpacks its zstd kernel", UnpackedKernels.lookup(dir, zstd, UnpackedKernels.Miss.UNPACK_NOW).note());
        assertNull(UnpackedKernels.lookup(dir, new byte[] {0x7f, 'E', 'L', 'F'}, UnpackedKernels.Miss.UNPACK_NOW).note(), "not a bzImage");
    }

    /** A gzip bzImage of boot protocol 2.15 around a one-segment ELF at 16 MiB (as BzImagePayloadTest's). */
    private static byte[] bzImage() throws Exception {
        ByteBuffer e = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        e.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        e.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1).putLong(24, 0x1000000)
                .putLong(32, 64).putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) 1);
        e.putInt(64, 1).putInt(68, 7).putLong(72, 4096).putLong(88, 0x1000000).putLong(96, 4096).putLong(104, 8192);
        for (int i = 4096; i < 8192; i++) {
            e.put(i, (byte) (i * 31));
        }
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(z)) {
            g.write(e.array());
        }
        byte[] payload = Arrays.copyOf(z.toByteArray(), z.size() + 4);
        ByteBuffer.wrap(payload, z.size(), 4).order(ByteOrder.LITTLE_ENDIAN).putInt(8192);
        ByteBuffer b = ByteBuffer.allocate(1024 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1f1, (byte) 1).putInt(0x1f4, payload.length / 16).put(0x201, (byte) 0x66).putInt(0x202, 0x53726448)
                .putShort(0x206, (short) 0x20f).put(0x211, (byte) 1).putInt(0x22c, 0x7fffffff).putShort(0x236, (short) 1)
                .putInt(0x248, 0).putInt(0x24c, payload.length).putLong(0x258, 0x1000000).putInt(0x260, 4 << 20);
        b.put(1024, payload);
        assertEquals(BzImagePayload.Format.GZIP, BzImagePayload.format(b.array()));
        return b.array();
    }
}
