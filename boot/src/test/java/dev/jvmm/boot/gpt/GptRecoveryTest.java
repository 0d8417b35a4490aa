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
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Disks with one damaged or stale GPT copy: readRecovering names the state and picks the copy
 * to use, the strict read refuses them, and repair makes both copies valid again, as sgdisk -v
 * confirms.
 */
class GptRecoveryTest {
    @TempDir
    Path tmp;

    final GptTest base = new GptTest();

    Path written() throws Exception {
        base.tmp = tmp;
        return base.written();
    }

    static GptRead recover(Path f) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            return Gpt.readRecovering(ch);
        }
    }

    static GptRead repair(Path f) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return Gpt.repair(ch);
        }
    }

    static Gpt strict(Path f) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            return Gpt.read(ch);
        }
    }

    static void patch(Path f, long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), offset);
        }
    }

    static long backupLba() {
        return GptTest.SECTORS - 1;
    }

    /** What sgdisk -v says; it loads the valid copy itself and warns about the other. */
    static String sgdisk(Path f) throws Exception {
        Assumptions.assumeTrue(GptTest.have("sgdisk"), "sgdisk (gdisk) is needed");
        Process p = new ProcessBuilder("sgdisk", "-v", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }

    static void assertSgdiskClean(Path f) throws Exception {
        String out = sgdisk(f);
        assertTrue(out.contains("No problems found") && !out.contains("Warning") && !out.contains("Caution"), out);
    }

    static void assertSgdiskSays(Path f, String... fragments) throws Exception {
        String out = sgdisk(f);
        for (String x : fragments) {
            assertTrue(out.contains(x), "sgdisk -v should say '" + x + "': " + out);
        }
    }

    /** Repairs {@code f}, then checks the strict read sees {@code expected} in both copies. */
    void assertRepaired(Path f, GptRead.State state, String action, Gpt expected) throws Exception {
        GptRead r = repair(f);
        assertEquals(state, r.state());
        assertEquals(action, r.repairAction());
        assertEquals(expected.partitions(), strict(f).partitions());
        assertEquals(GptRead.State.BOTH_VALID, recover(f).state());
        assertSgdiskClean(f);
    }

    @Test
    void bothValidNeedsNothing() throws Exception {
        Path f = written();
        GptRead r = recover(f);
        assertEquals(GptRead.State.BOTH_VALID, r.state());
        assertEquals(GptRead.Copy.PRIMARY, r.source());
        assertFalse(r.needsRepair());
        assertEquals("both GPT copies are valid and agree", r.description());
        byte[] before = Files.readAllBytes(f);
        assertEquals("both GPT copies are valid and agree; nothing to do", repair(f).repairAction());
        assertArrayEquals(before, Files.readAllBytes(f), "repair of a sound disk writes nothing");
    }

    @Test
    void damagedPrimaryHeaderUsesTheBackup() throws Exception {
        Path f = written();
        patch(f, Gpt.SECTOR + 40, new byte[] {0x7f});
        GptRead r = recover(f);
        assertEquals(GptRead.State.BACKUP_ONLY, r.state());
        assertEquals(GptRead.Copy.BACKUP, r.source());
        assertEquals("primary GPT header CRC mismatch (damaged header); using the backup copy", r.description());
        assertEquals(base.sample().partitions(), r.gpt().partitions());
        GptException e = assertThrows(GptException.class, () -> strict(f));
        assertEquals(r.description(), e.getMessage(), "the strict read refuses, saying the same");
        assertSgdiskSays(f, "Main header: ERROR", "Backup header: OK", "Backup partition table: OK");
        assertRepaired(f, GptRead.State.BACKUP_ONLY, "primary GPT rewritten from the backup copy", base.sample());
    }

    @Test
    void damagedBackupEntriesUseThePrimary() throws Exception {
        Path f = written();
        patch(f, (backupLba() - 32) * Gpt.SECTOR + 200, new byte[] {0x55, 0x66});
        GptRead r = recover(f);
        assertEquals(GptRead.State.PRIMARY_ONLY, r.state());
        assertEquals(GptRead.Copy.PRIMARY, r.source());
        assertTrue(r.description().startsWith("backup GPT partition entries CRC mismatch"), r.description());
        assertSgdiskSays(f, "Main header: OK", "Backup partition table: ERROR");
        assertRepaired(f, GptRead.State.PRIMARY_ONLY, "backup GPT rewritten from the primary copy", base.sample());
    }

    @Test
    void twoValidCopiesThatDifferTakeTheBackup() throws Exception {
        // What a crash between Gpt.write's two copies leaves: a new backup and the old primary.
        Path f = written();
        Gpt newer = base.sample().with(new GptPartition(8, GptTest.LINUX, Guid.derive("p8"), 10240, 12287, 0, "OEM"));
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            newer.write(ch);
        }
        byte[] oldEntries = base.sample().entries();
        CRC32 crc = new CRC32();
        crc.update(oldEntries);
        patch(f, 2L * Gpt.SECTOR, oldEntries);
        patch(f, Gpt.SECTOR, base.sample().header(true, crc.getValue()));
        GptRead r = recover(f);
        assertEquals(GptRead.State.BOTH_VALID_DISAGREE, r.state());
        assertEquals(GptRead.Copy.BACKUP, r.source());
        assertEquals(newer.partitions(), r.gpt().partitions(), "the backup, written first, is the newer");
        assertTrue(r.description().contains("primary and backup GPT disagree"), r.description());
        assertFalse(sgdisk(f).contains("No problems found"), "sgdisk -v sees the disagreement too");
        assertRepaired(f, GptRead.State.BOTH_VALID_DISAGREE,
                "primary GPT rewritten from the backup copy (both were valid; the backup is newer)", newer);
    }

    @Test
    void neitherCopyValidNamesBothAndRepairWritesNothing() throws Exception {
        Path f = written();
        patch(f, Gpt.SECTOR + 40, new byte[] {0x7f});
        patch(f, backupLba() * Gpt.SECTOR, new byte[8]); // no signature
        GptException e = assertThrows(GptException.class, () -> recover(f));
        assertEquals("no valid GPT: primary GPT header CRC mismatch (damaged header); backup GPT header at LBA "
                + backupLba() + " has no 'EFI PART' signature", e.getMessage());
        byte[] before = Files.readAllBytes(f);
        assertThrows(GptException.class, () -> repair(f));
        assertArrayEquals(before, Files.readAllBytes(f));
    }

    /** Rewrites the primary header's entries LBA (CRC recomputed), as hostile input would. */
    static void movePrimaryEntries(Path f, long lba) throws IOException {
        byte[] h = new byte[Gpt.SECTOR];
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.read(ByteBuffer.wrap(h), Gpt.SECTOR);
            ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(72, lba).putInt(16, 0);
            CRC32 crc = new CRC32();
            crc.update(h, 0, Gpt.HEADER_SIZE);
            b.putInt(16, (int) crc.getValue());
            ch.write(ByteBuffer.wrap(h), Gpt.SECTOR);
        }
    }

    @Test
    void entriesOverlappingTheUsableAreaOrOffTheDiskMakeACopyInvalid() throws Exception {
        Path f = written();
        byte[] entries = base.sample().entries();
        patch(f, 40L * Gpt.SECTOR, entries); // a valid entry array, but inside the partitions' area
        movePrimaryEntries(f, 40);
        GptRead r = recover(f);
        assertEquals(GptRead.State.BACKUP_ONLY, r.state());
        assertTrue(r.problem().contains("primary GPT entries at LBA 40-71 overlap the usable area 34-"), r.problem());
        movePrimaryEntries(f, 1L << 55); // times 512 would wrap to 0
        r = recover(f);
        assertEquals(GptRead.State.BACKUP_ONLY, r.state());
        assertTrue(r.problem().contains("lie outside the disk"), r.problem());
    }
}
