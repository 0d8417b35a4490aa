package dev.jvmm.boot.gpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * A GUID partition table (UEFI 2.10 chapter 5): protective MBR, primary header and entries at
 * the start, backup entries and header at the end. Reading checks both copies completely;
 * writing writes the backup first, then the primary, each copy entries before header, so an
 * interruption always leaves one self-consistent copy.
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

    private Gpt(Guid diskGuid, long totalSectors, int numEntries, List<GptPartition> partitions) {
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
    private void validatePartitions(long firstUsable, long lastUsable) throws GptException {
        List<GptPartition> byStart = partitions.stream().sorted(Comparator.comparingLong(GptPartition::firstLba)).toList();
        java.util.Set<Integer> numbers = new java.util.HashSet<>();
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

    // ------------------------------------------------------------------ decoding

    private static byte[] readAt(FileChannel ch, long pos, int len) throws IOException, GptException {
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) {
                throw new GptException("image is truncated: cannot read " + len + " bytes at offset " + pos);
            }
        }
        return b.array();
    }

    /** Parsed header fields of one copy. */
    private record Header(long current, long backup, long firstUsable, long lastUsable, Guid disk, long entriesLba,
                          int numEntries, int entrySize, long entriesCrc) {}

    private static Header readHeader(FileChannel ch, long lba, String which) throws IOException, GptException {
        ByteBuffer b = ByteBuffer.wrap(readAt(ch, lba * SECTOR, SECTOR)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getLong(0) != SIGNATURE) {
            throw new GptException(which + " GPT header at LBA " + lba + " has no 'EFI PART' signature");
        }
        int size = b.getInt(12);
        if (size < HEADER_SIZE || size > SECTOR) {
            throw new GptException(which + " GPT header size " + size + " is invalid");
        }
        long stored = b.getInt(16) & 0xffffffffL;
        byte[] copy = b.array().clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(16, 0);
        if (crc(copy, 0, size) != stored) {
            throw new GptException(which + " GPT header CRC mismatch (damaged header)");
        }
        int num = b.getInt(80);
        int entrySize = b.getInt(84);
        if (num < 1 || num > MAX_ENTRIES) {
            throw new GptException(which + " GPT header claims " + Integer.toUnsignedString(num)
                    + " partition entries (at most " + MAX_ENTRIES + " accepted)");
        }
        if (entrySize < ENTRY_SIZE || entrySize > 4096 || entrySize % 8 != 0) {
            throw new GptException(which + " GPT entry size " + entrySize + " is invalid");
        }
        return new Header(b.getLong(24), b.getLong(32), b.getLong(40), b.getLong(48), Guid.fromBytes(b.array(), 56),
                b.getLong(72), num, entrySize, b.getInt(88) & 0xffffffffL);
    }

    private static byte[] readEntries(FileChannel ch, Header h, long totalSectors, String which)
            throws IOException, GptException {
        long len = (long) h.numEntries() * h.entrySize();
        if (h.entriesLba() < 2 || h.entriesLba() * SECTOR + len > totalSectors * SECTOR) {
            throw new GptException(which + " GPT entries at LBA " + h.entriesLba() + " lie outside the disk");
        }
        byte[] e = readAt(ch, h.entriesLba() * SECTOR, (int) len);
        if (crc(e, 0, e.length) != h.entriesCrc()) {
            throw new GptException(which + " GPT partition entries CRC mismatch (damaged entries)");
        }
        return e;
    }

    private static List<GptPartition> parseEntries(byte[] e, Header h) {
        ByteBuffer b = ByteBuffer.wrap(e).order(ByteOrder.LITTLE_ENDIAN);
        List<GptPartition> out = new ArrayList<>();
        for (int i = 0; i < h.numEntries(); i++) {
            int o = i * h.entrySize();
            Guid type = Guid.fromBytes(e, o);
            if (type.isZero()) {
                continue;
            }
            String name = new String(e, o + 56, 72, StandardCharsets.UTF_16LE);
            int nul = name.indexOf('\0');
            out.add(new GptPartition(i + 1, type, Guid.fromBytes(e, o + 16), b.getLong(o + 32), b.getLong(o + 40),
                    b.getLong(o + 48), nul >= 0 ? name.substring(0, nul) : name));
        }
        return out;
    }

    /** Reads and checks both GPT copies of an image; any damage or disagreement is an error. */
    public static Gpt read(FileChannel ch) throws IOException, GptException {
        long size = ch.size();
        if (size < 3 * SECTOR || size % SECTOR != 0) {
            throw new GptException("image size " + size + " is not a whole number of 512-byte sectors holding a GPT");
        }
        long totalSectors = size / SECTOR;
        Header p = readHeader(ch, 1, "primary");
        if (p.current() != 1) {
            throw new GptException("primary GPT header says it is at LBA " + p.current() + ", not 1");
        }
        if (p.backup() != totalSectors - 1) {
            throw new GptException("primary GPT header puts the backup at LBA " + p.backup() + " but the disk ends at LBA "
                    + (totalSectors - 1) + " (truncated or resized image)");
        }
        byte[] pe = readEntries(ch, p, totalSectors, "primary");
        Header s = readHeader(ch, totalSectors - 1, "backup");
        byte[] se = readEntries(ch, s, totalSectors, "backup");
        if (s.current() != totalSectors - 1 || s.backup() != 1 || s.firstUsable() != p.firstUsable()
                || s.lastUsable() != p.lastUsable() || !s.disk().equals(p.disk()) || s.numEntries() != p.numEntries()
                || s.entrySize() != p.entrySize() || s.entriesCrc() != p.entriesCrc() || !java.util.Arrays.equals(pe, se)) {
            throw new GptException("primary and backup GPT disagree");
        }
        if (p.firstUsable() < 2 || p.lastUsable() >= totalSectors - 1 || p.firstUsable() > p.lastUsable()) {
            throw new GptException("GPT usable area " + p.firstUsable() + "-" + p.lastUsable() + " is invalid");
        }
        Gpt g = new Gpt(p.disk(), totalSectors, p.numEntries(), parseEntries(pe, p));
        // Another tool may lay out a different entry area: check against the usable range it recorded.
        g.validatePartitions(p.firstUsable(), p.lastUsable());
        return g;
    }
}
