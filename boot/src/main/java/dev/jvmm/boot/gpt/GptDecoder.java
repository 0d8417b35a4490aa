package dev.jvmm.boot.gpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.jvmm.boot.gpt.Gpt.SECTOR;

/**
 * Decodes and checks one GPT copy (header, entries, partitions) on its own, so that a reader
 * can tell which copies are usable before comparing them. Damage becomes a one-line problem
 * naming the copy; only real I/O errors are thrown. Positions are compared in sectors, never
 * multiplied out, so hostile 64-bit LBAs cannot overflow past a check.
 */
final class GptDecoder {
    private GptDecoder() {}

    /** Parsed header fields of one copy. */
    record Header(long current, long other, long firstUsable, long lastUsable, Guid disk, long entriesLba,
                  int numEntries, int entrySize, long entriesCrc) {
        long entriesSectors() {
            return ((long) numEntries * entrySize + SECTOR - 1) / SECTOR;
        }
    }

    /** One copy as found: its header, entry bytes and table, or (all null) why it cannot be used. */
    record Found(GptRead.Copy copy, Header header, byte[] entries, Gpt gpt, String problem) {
        boolean valid() {
            return problem == null;
        }

        /** Same disk, same usable area, same entry array byte for byte. */
        boolean agrees(Found o) {
            Header p = header;
            Header s = o.header;
            return p.firstUsable() == s.firstUsable() && p.lastUsable() == s.lastUsable() && p.disk().equals(s.disk())
                    && p.numEntries() == s.numEntries() && p.entrySize() == s.entrySize()
                    && p.entriesCrc() == s.entriesCrc() && Arrays.equals(entries, o.entries);
        }
    }

    /** Reads the primary (LBA 1) or backup (last LBA) copy of a disk of {@code totalSectors}. */
    static Found read(FileChannel ch, long totalSectors, GptRead.Copy copy) throws IOException {
        String which = copy.label() + " GPT";
        try {
            long lba = copy == GptRead.Copy.PRIMARY ? 1 : totalSectors - 1;
            Header h = readHeader(ch, lba, which);
            checkPlacement(h, lba, totalSectors, copy, which);
            byte[] e = readAt(ch, h.entriesLba() * SECTOR, h.numEntries() * h.entrySize());
            if (Gpt.crc(e, 0, e.length) != h.entriesCrc()) {
                throw new GptException(which + " partition entries CRC mismatch (damaged entries)");
            }
            Gpt g = new Gpt(h.disk(), totalSectors, h.numEntries(), parseEntries(e, h));
            try {
                // Check against the usable range the copy records: another tool may lay the disk out differently.
                g.validatePartitions(h.firstUsable(), h.lastUsable());
            } catch (GptException x) {
                throw new GptException(which + ": " + x.getMessage());
            }
            return new Found(copy, h, e, g, null);
        } catch (GptException x) {
            return new Found(copy, null, null, null, x.getMessage());
        }
    }

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

    private static Header readHeader(FileChannel ch, long lba, String which) throws IOException, GptException {
        ByteBuffer b = ByteBuffer.wrap(readAt(ch, lba * SECTOR, SECTOR)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getLong(0) != Gpt.SIGNATURE) {
            throw new GptException(which + " header at LBA " + lba + " has no 'EFI PART' signature");
        }
        int size = b.getInt(12);
        if (size < Gpt.HEADER_SIZE || size > SECTOR) {
            throw new GptException(which + " header size " + size + " is invalid");
        }
        long stored = b.getInt(16) & 0xffffffffL;
        byte[] copy = b.array().clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(16, 0);
        if (Gpt.crc(copy, 0, size) != stored) {
            throw new GptException(which + " header CRC mismatch (damaged header)");
        }
        int num = b.getInt(80);
        int entrySize = b.getInt(84);
        if (num < 1 || num > Gpt.MAX_ENTRIES) {
            throw new GptException(which + " header claims " + Integer.toUnsignedString(num)
                    + " partition entries (at most " + Gpt.MAX_ENTRIES + " accepted)");
        }
        if (entrySize < Gpt.ENTRY_SIZE || entrySize > 4096 || entrySize % 8 != 0) {
            throw new GptException(which + " entry size " + entrySize + " is invalid");
        }
        return new Header(b.getLong(24), b.getLong(32), b.getLong(40), b.getLong(48), Guid.fromBytes(b.array(), 56),
                b.getLong(72), num, entrySize, b.getInt(88) & 0xffffffffL);
    }

    /**
     * The header sits where it says, points at the other copy, and its usable area and entry
     * array lie inside the disk without overlapping each other (UEFI 2.10 5.3.2).
     */
    private static void checkPlacement(Header h, long lba, long totalSectors, GptRead.Copy copy, String which)
            throws GptException {
        boolean primary = copy == GptRead.Copy.PRIMARY;
        if (h.current() != lba) {
            throw new GptException(which + " header says it is at LBA " + h.current() + ", not " + lba);
        }
        if (primary && h.other() != totalSectors - 1) {
            throw new GptException(which + " header puts the backup at LBA " + h.other() + " but the disk ends at LBA "
                    + (totalSectors - 1) + " (truncated or resized image)");
        }
        if (!primary && h.other() != 1) {
            throw new GptException(which + " header puts the primary at LBA " + h.other() + ", not 1");
        }
        if (h.firstUsable() < 2 || h.lastUsable() >= totalSectors - 1 || h.firstUsable() > h.lastUsable()) {
            throw new GptException(which + " usable area " + h.firstUsable() + "-" + h.lastUsable() + " is invalid");
        }
        long start = h.entriesLba();
        long sectors = h.entriesSectors();
        if (start < 2 || start > totalSectors - 1 - sectors) {
            throw new GptException(which + " entries at LBA " + start + " lie outside the disk");
        }
        boolean placed = primary ? start + sectors <= h.firstUsable() : start > h.lastUsable();
        if (!placed) {
            throw new GptException(which + " entries at LBA " + start + "-" + (start + sectors - 1)
                    + " overlap the usable area " + h.firstUsable() + "-" + h.lastUsable());
        }
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
}
