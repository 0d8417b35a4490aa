package dev.jvmm.boot.gpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * A GUID partition table (UEFI 2.10 chapter 5): protective MBR, primary header and entries at
 * the start, backup entries and header at the end. Reading checks both copies completely
 * ({@link #read} wants both valid and identical, {@link #readRecovering} goes on from one);
 * writing writes the backup first, then the primary, each copy entries before header, so an
 * interruption always leaves one self-consistent copy, which {@link #repair} copies back.
 */
public final class Gpt {
    public static final int SECTOR = 512;
    public static final int ENTRY_SIZE = 128;
    public static final int DEFAULT_ENTRIES = 128;
    /** No real disk has more; a header asking for more is damaged or hostile. */
    public static final int MAX_ENTRIES = 4096;
    static final long SIGNATURE = 0x5452415020494645L; // "EFI PART"
    static final int REVISION = 0x00010000;
    static final int HEADER_SIZE = 92;

    private final Guid diskGuid;
    private final long totalSectors;
    private final int numEntries;
    private final List<GptPartition> partitions;

    Gpt(Guid diskGuid, long totalSectors, int numEntries, List<GptPartition> partitions) {
        this.diskGuid = diskGuid;
        this.totalSectors = totalSectors;
        this.numEntries = numEntries;
        this.partitions = partitions.stream().sorted(Comparator.comparingInt(GptPartition::number)).toList();
    }

    static int entryLbas(int numEntries) {
        return (numEntries * ENTRY_SIZE + SECTOR - 1) / SECTOR;
    }

    public long firstUsableLba() {
        return 2L + entryLbas(numEntries);
    }

    public long lastUsableLba() {
        return totalSectors - 2 - entryLbas(numEntries);
    }

    /** A new table; throws if partitions overlap, leave the usable area or reuse a number. */
    public static Gpt create(long totalSectors, Guid diskGuid, List<GptPartition> partitions) throws GptException {
        Gpt g = new Gpt(diskGuid, totalSectors, DEFAULT_ENTRIES, partitions);
        g.validatePartitions();
        return g;
    }

    public Guid diskGuid() {
        return diskGuid;
    }

    public long totalSectors() {
        return totalSectors;
    }

    public List<GptPartition> partitions() {
        return partitions;
    }

    public Optional<GptPartition> byNumber(int number) {
        return partitions.stream().filter(p -> p.number() == number).findFirst();
    }

    public Optional<GptPartition> byName(String name) {
        return partitions.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** The same table with partition {@code p.number()} replaced by {@code p}. */
    public Gpt with(GptPartition p) throws GptException {
        List<GptPartition> list = new ArrayList<>(partitions);
        list.removeIf(q -> q.number() == p.number());
        list.add(p);
        Gpt g = new Gpt(diskGuid, totalSectors, numEntries, list);
        g.validatePartitions();
        return g;
    }

    private void validatePartitions() throws GptException {
        if (totalSectors < 2L * (2 + entryLbas(numEntries)) + 1) {
            throw new GptException("disk of " + totalSectors + " sectors is too small for a GPT");
        }
        validatePartitions(firstUsableLba(), lastUsableLba());
    }

    /** Numbers unique and in range; each partition inside [firstUsable, lastUsable]; no overlaps. */
    void validatePartitions(long firstUsable, long lastUsable) throws GptException {
        List<GptPartition> byStart = partitions.stream().sorted(Comparator.comparingLong(GptPartition::firstLba)).toList();
        Set<Integer> numbers = new HashSet<>();
        for (int i = 0; i < byStart.size(); i++) {
            GptPartition p = byStart.get(i);
            if (p.number() < 1 || p.number() > numEntries || !numbers.add(p.number())) {
                throw new GptException("partition number " + p.number() + " is invalid or used twice");
            }
            if (p.firstLba() > p.lastLba()) {
                throw new GptException("partition " + p.number() + " (" + p.name() + ") ends before it starts");
            }
            if (p.firstLba() < firstUsable || p.lastLba() > lastUsable) {
                throw new GptException(String.format("partition %d (%s) at LBA %d-%d lies outside the usable area %d-%d",
                        p.number(), p.name(), p.firstLba(), p.lastLba(), firstUsable, lastUsable));
            }
            if (i > 0 && byStart.get(i - 1).lastLba() >= p.firstLba()) {
                throw new GptException("partitions " + byStart.get(i - 1).number() + " and " + p.number() + " overlap");
            }
        }
    }

    // ------------------------------------------------------------------ encoding

    byte[] entries() {
        ByteBuffer b = ByteBuffer.allocate(numEntries * ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (GptPartition p : partitions) {
            int o = (p.number() - 1) * ENTRY_SIZE;
            b.put(o, p.type().bytes()).put(o + 16, p.unique().bytes());
            b.putLong(o + 32, p.firstLba()).putLong(o + 40, p.lastLba()).putLong(o + 48, p.attributes());
            byte[] name = p.name().getBytes(StandardCharsets.UTF_16LE);
            if (name.length > 72) {
                throw new IllegalStateException("partition name longer than 36 characters: " + p.name());
            }
            b.put(o + 56, name);
        }
        return b.array();
    }

    static long crc(byte[] b, int off, int len) {
        CRC32 c = new CRC32();
        c.update(b, off, len);
        return c.getValue();
    }

    byte[] header(boolean primary, long entriesCrc) {
        long backupLba = totalSectors - 1;
        ByteBuffer b = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, SIGNATURE).putInt(8, REVISION).putInt(12, HEADER_SIZE);
        b.putLong(24, primary ? 1 : backupLba).putLong(32, primary ? backupLba : 1);
        b.putLong(40, firstUsableLba()).putLong(48, lastUsableLba());
        b.put(56, diskGuid.bytes());
        b.putLong(72, primary ? 2 : backupLba - entryLbas(numEntries));
        b.putInt(80, numEntries).putInt(84, ENTRY_SIZE).putInt(88, (int) entriesCrc);
        b.putInt(16, (int) crc(b.array(), 0, HEADER_SIZE));
        return b.array();
    }

    byte[] protectiveMbr() {
        ByteBuffer b = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        int o = 446;
        b.put(o + 1, (byte) 0x00).put(o + 2, (byte) 0x02).put(o + 3, (byte) 0x00); // CHS 0/0/2
        b.put(o + 4, (byte) 0xee);
        b.put(o + 5, (byte) 0xff).put(o + 6, (byte) 0xff).put(o + 7, (byte) 0xff);
        b.putInt(o + 8, 1).putInt(o + 12, (int) Math.min(totalSectors - 1, 0xffffffffL));
        b.putShort(510, (short) 0xaa55);
        return b.array();
    }

    /** Writes protective MBR and both copies (backup first), then forces them to disk. */
    public void write(FileChannel ch) throws IOException {
        if (ch.size() < totalSectors * SECTOR) {
            throw new IOException("image is smaller than the GPT's disk size");
        }
        byte[] entries = entries();
        long entriesCrc = crc(entries, 0, entries.length);
        long backupLba = totalSectors - 1;
        writeAt(ch, entries, (backupLba - entryLbas(numEntries)) * SECTOR);
        writeAt(ch, header(false, entriesCrc), backupLba * SECTOR);
        ch.force(false);
        writeAt(ch, protectiveMbr(), 0);
        writeAt(ch, entries, 2L * SECTOR);
        writeAt(ch, header(true, entriesCrc), SECTOR);
        ch.force(false);
    }

    private static void writeAt(FileChannel ch, byte[] data, long pos) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
    }

    // ------------------------------------------------------------------ reading

    private static long sectorsOf(FileChannel ch) throws IOException, GptException {
        long size = ch.size();
        if (size < 3 * SECTOR || size % SECTOR != 0) {
            throw new GptException("image size " + size + " is not a whole number of 512-byte sectors holding a GPT");
        }
        return size / SECTOR;
    }

    /**
     * Reads both copies and says which are usable: the table comes from the primary when both
     * agree or only the primary is valid, from the backup when only the backup is valid, and
     * from the backup when both are valid but differ. That last rule follows from {@link #write}:
     * it writes and forces the whole backup before touching the primary, so two valid copies that
     * differ mean an update stopped after the backup, and the backup is the newer. (UEFI firmware
     * takes the primary there; either is a whole table jvmm wrote, so either boots.)
     *
     * @throws GptException when neither copy is valid, naming what is wrong with each
     */
    public static GptRead readRecovering(FileChannel ch) throws IOException, GptException {
        long totalSectors = sectorsOf(ch);
        GptDecoder.Found p = GptDecoder.read(ch, totalSectors, GptRead.Copy.PRIMARY);
        GptDecoder.Found s = GptDecoder.read(ch, totalSectors, GptRead.Copy.BACKUP);
        if (p.valid() && s.valid()) {
            return p.agrees(s) ? new GptRead(p.gpt(), GptRead.Copy.PRIMARY, GptRead.State.BOTH_VALID, null)
                    : new GptRead(s.gpt(), GptRead.Copy.BACKUP, GptRead.State.BOTH_VALID_DISAGREE,
                    "primary and backup GPT disagree though both are valid (an interrupted update)");
        }
        if (p.valid()) {
            return new GptRead(p.gpt(), GptRead.Copy.PRIMARY, GptRead.State.PRIMARY_ONLY, s.problem());
        }
        if (s.valid()) {
            return new GptRead(s.gpt(), GptRead.Copy.BACKUP, GptRead.State.BACKUP_ONLY, p.problem());
        }
        throw new GptException("no valid GPT: " + p.problem() + "; " + s.problem());
    }

    /** Reads a GPT whose two copies are both valid and identical; anything else is an error naming the problem. */
    public static Gpt read(FileChannel ch) throws IOException, GptException {
        GptRead r = readRecovering(ch);
        if (r.needsRepair()) {
            throw new GptException(r.description());
        }
        return r.gpt();
    }

    /**
     * Makes both copies valid and identical: when one copy is damaged or stale, writes the table
     * {@link #readRecovering} chose to both places through {@link #write} (backup first), so an
     * interruption leaves a usable copy. Returns what it found; its {@link GptRead#repairAction()}
     * says what was done.
     *
     * @throws GptException when neither copy is valid: there is nothing to repair from
     */
    public static GptRead repair(FileChannel ch) throws IOException, GptException {
        GptRead r = readRecovering(ch);
        if (r.needsRepair()) {
            r.gpt().write(ch);
            read(ch); // both copies must now check out
        }
        return r;
    }
}
