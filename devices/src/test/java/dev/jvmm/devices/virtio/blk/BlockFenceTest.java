package dev.jvmm.devices.virtio.blk;

import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.TestBench;
import dev.jvmm.devices.virtio.VirtqueueDriver;
import dev.jvmm.devices.virtio.VirtqueueDriver.Buf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The write fence on a read-write drive, against real files: fenced sectors never change, however
 * a request reaches them (write, discard, write-zeroes, straddling, wrapping, one segment of
 * many), while the sectors around them stay writable and everything stays readable.
 */
class BlockFenceTest {
    static final int DISK = 1 << 20; // 2048 sectors
    static final FencedRange ROOT = new FencedRange("ROOT-A", 1024, 1535);
    static final FencedRange HASH = new FencedRange("HASH-A", 1536, 1599);

    @TempDir
    Path dir;
    Path file;
    byte[] original;
    BlockDevice device;
    TestBench bench;

    @AfterEach
    void close() {
        if (device != null) {
            device.close();
        }
    }

    private VirtqueueDriver start(List<FencedRange> fences, boolean ro) throws IOException {
        original = new byte[DISK];
        new Random(42).nextBytes(original);
        file = dir.resolve("disk.img");
        Files.write(file, original);
        device = new BlockDevice("blk0", BlockFile.open(file, ro), "s", fences);
        bench = new TestBench(device).start();
        return bench.queue(0);
    }

    private VirtqueueDriver start(FencedRange... fences) throws IOException {
        return start(List.of(fences), false);
    }

    private static byte[] header(int type, long sector) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putLong(8, sector).array();
    }

    /** Discard/write-zeroes segments, each {sector, sectors}. */
    private static byte[] segments(long... pairs) {
        ByteBuffer b = ByteBuffer.allocate(8 * pairs.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < pairs.length; i += 2) {
            b.putLong(pairs[i]).putInt((int) pairs[i + 1]).putInt(0);
        }
        return b.array();
    }

    /** Sends one request and returns its status byte. */
    private int request(Buf... bufs) {
        VirtqueueDriver q = bench.queue(0);
        int head = q.add(bufs);
        bench.kick(0);
        assertEquals(head, q.nextUsed().id());
        Buf status = bufs[bufs.length - 1];
        return q.contents(status)[status.len() - 1];
    }

    private int write(long sector, byte[] data) {
        VirtqueueDriver q = bench.queue(0);
        return request(q.readable(header(BlockDevice.T_OUT, sector)), q.readable(data), q.writable(1));
    }

    private int zeroOrDiscard(int type, long... pairs) {
        VirtqueueDriver q = bench.queue(0);
        return request(q.readable(header(type, 0)), q.readable(segments(pairs)), q.writable(1));
    }

    private static byte[] pattern(int sectors) {
        byte[] d = new byte[sectors * BlockDevice.SECTOR];
        Arrays.fill(d, (byte) 0x5A);
        return d;
    }

    private byte[] onDisk(long firstSector, long sectors) throws IOException {
        byte[] all = Files.readAllBytes(file);
        return Arrays.copyOfRange(all, (int) (firstSector * 512), (int) ((firstSector + sectors) * 512));
    }

    private long count(String counter) {
        return device.metrics().get(counter);
    }

    @Test
    void writeInsideAFenceIsRefusedCountedAndLeavesTheFileAlone() throws IOException {
        start(ROOT, HASH);
        assertEquals(BlockDevice.S_IOERR, write(1100, pattern(8)));
        assertArrayEquals(original, Files.readAllBytes(file));
        assertEquals(1, count("fenced_writes"));
        assertEquals(1, count("fenced_writes/ROOT-A"));
        assertEquals(0, count("fenced_writes/HASH-A"));
        assertEquals(0, count("write_bytes"));
        assertEquals(0, count("errors"));
        assertEquals(0, bench.transport.status() & MmioTransport.STATUS_NEEDS_RESET, "a refusal is an answer, not a broken queue");
    }

    @Test
    void writesRightNextToAFenceGoThrough() throws IOException {
        start(ROOT);
        assertEquals(BlockDevice.S_OK, write(1016, pattern(8)), "sectors 1016-1023 end just before the fence");
        assertEquals(BlockDevice.S_OK, write(1536, pattern(8)), "sectors 1536-1543 start just after it");
        assertArrayEquals(pattern(8), onDisk(1016, 8));
        assertArrayEquals(pattern(8), onDisk(1536, 8));
        assertArrayEquals(Arrays.copyOfRange(original, 1024 * 512, 1536 * 512), onDisk(1024, 512));
        assertEquals(0, count("fenced_writes"));
        assertEquals(16 * 512, count("write_bytes"));
    }

    @Test
    void writesStraddlingEitherEndOfAFenceAreRefusedWhole() throws IOException {
        start(ROOT);
        assertEquals(BlockDevice.S_IOERR, write(1020, pattern(8)), "1020-1027 reaches the fence's first sector");
        assertEquals(BlockDevice.S_IOERR, write(1535, pattern(2)), "1535-1536 holds the fence's last sector");
        assertEquals(BlockDevice.S_IOERR, write(1000, pattern(600)), "1000-1599 spans the whole fence");
        // Not even the parts outside the fence were written.
        assertArrayEquals(original, Files.readAllBytes(file));
        assertEquals(3, count("fenced_writes"));
        assertEquals(3, count("fenced_writes/ROOT-A"));
    }

    @Test
    void writeZeroesAndDiscardIntoAFenceAreRefusedEvenForOneSegmentOfMany() throws IOException {
        start(ROOT, HASH);
        assertEquals(BlockDevice.S_IOERR, zeroOrDiscard(BlockDevice.T_WRITE_ZEROES, 1200, 8));
        assertEquals(BlockDevice.S_IOERR, zeroOrDiscard(BlockDevice.T_WRITE_ZEROES, 8, 8, 1600, 8, 1599, 1),
                "the last segment touches HASH-A's last sector; the others are writable");
        assertEquals(BlockDevice.S_IOERR, zeroOrDiscard(BlockDevice.T_WRITE_ZEROES, 1016, 16), "straddling");
        int refused = 3;
        if (device.file().supportsDiscard()) {
            assertEquals(BlockDevice.S_IOERR, zeroOrDiscard(BlockDevice.T_DISCARD, 1024, 8));
            assertEquals(BlockDevice.S_IOERR, zeroOrDiscard(BlockDevice.T_DISCARD, 0, 8, 1500, 40));
            refused += 2;
        }
        assertArrayEquals(original, Files.readAllBytes(file), "no segment was applied, fenced or not");
        assertEquals(refused, count("fenced_writes"));
        assertEquals(0, count("write_zeroes") + count("discards"));
        // The same requests without the fenced segment go through.
        assertEquals(BlockDevice.S_OK, zeroOrDiscard(BlockDevice.T_WRITE_ZEROES, 8, 8, 1600, 8));
        assertArrayEquals(new byte[8 * 512], onDisk(1600, 8));
        assertArrayEquals(new byte[8 * 512], onDisk(8, 8));
    }

    @Test
    void overlappingUnsortedFencesCountEveryRangeATouchedOnce() throws IOException {
        FencedRange a = new FencedRange("A", 100, 200);
        FencedRange b = new FencedRange("B", 150, 300);
        FencedRange inner = new FencedRange("INNER", 160, 161);
        start(List.of(b, inner, a), false);
        assertEquals(BlockDevice.S_IOERR, write(170, pattern(1)), "in A and B");
        assertEquals(BlockDevice.S_IOERR, write(250, pattern(1)), "in B only");
        assertEquals(BlockDevice.S_IOERR, write(96, pattern(8)), "reaches into A only");
        assertEquals(BlockDevice.S_IOERR, write(161, pattern(1)), "in all three");
        assertEquals(BlockDevice.S_IOERR, zeroOrDiscard(BlockDevice.T_WRITE_ZEROES, 100, 1, 110, 1), "two segments, both in A");
        assertEquals(BlockDevice.S_OK, write(301, pattern(1)));
        assertEquals(BlockDevice.S_OK, write(99, pattern(1)));
        assertEquals(5, count("fenced_writes"));
        assertEquals(4, count("fenced_writes/A"));
        assertEquals(3, count("fenced_writes/B"));
        assertEquals(1, count("fenced_writes/INNER"));
        assertArrayEquals(Arrays.copyOfRange(original, 100 * 512, 301 * 512), onDisk(100, 201));
    }

    @Test
    void hugeAndWrappingSectorsAreRefusedWithoutAnException() throws IOException {
        start(ROOT);
        long[] hostile = {-1L, -8L, -1024L, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE / 512 + 1, DISK / 512 - 4};
        for (long sector : hostile) {
            assertEquals(BlockDevice.S_IOERR, write(sector, pattern(8)), "write at " + Long.toUnsignedString(sector));
        }
        assertEquals(BlockDevice.S_IOERR, zeroOrDiscard(BlockDevice.T_WRITE_ZEROES, -1L, 2));
        assertEquals(BlockDevice.S_IOERR, zeroOrDiscard(BlockDevice.T_WRITE_ZEROES, 0, 8, -1024L, 0xffffffffL));
        assertEquals(BlockDevice.S_IOERR, zeroOrDiscard(BlockDevice.T_WRITE_ZEROES, Long.MIN_VALUE + 1, 2048));
        assertArrayEquals(original, Files.readAllBytes(file));
        assertEquals(hostile.length + 3, count("errors"), "out of range, before the fence is asked");
        assertEquals(0, bench.transport.status() & MmioTransport.STATUS_NEEDS_RESET);
    }

    @Test
    void aRunThatWrapsPast2To64CountsAsTouchingEveryRange() {
        FencedRange low = new FencedRange("LOW", 0, 7);
        FencedRange high = new FencedRange("HIGH", Long.MAX_VALUE - 7, Long.MAX_VALUE);
        assertTrue(low.touches(-1L, 2), "sectors 2^64-1 and, wrapped, 0");
        assertTrue(high.touches(-4L, 8));
        assertTrue(high.touches(Long.MAX_VALUE, 2), "2^63-1 and 2^63: no wrap, still touches its last sector");
        assertFalse(high.touches(Long.MIN_VALUE, 1024), "2^63 and above lie past the range, unsigned");
        assertFalse(low.touches(8, 0xffffffffL));
        assertFalse(low.touches(3, 0), "no sectors, nothing touched");
        assertTrue(low.touches(7, 1));
    }

    @Test
    void fencedSectorsReadNormally() throws IOException {
        VirtqueueDriver q = start(ROOT);
        Buf data = q.writable(4096);
        assertEquals(BlockDevice.S_OK, request(q.readable(header(BlockDevice.T_IN, 1530)), data, q.writable(1)),
                "sectors 1530-1537 cross the fence's last sector");
        assertArrayEquals(Arrays.copyOfRange(original, 1530 * 512, 1538 * 512), q.contents(data));
        assertEquals(4096, count("read_bytes"));
        assertEquals(0, count("fenced_writes"));
    }

    @Test
    void eachRangeIsLoggedOnceThenOnlyCounted() throws IOException {
        start(ROOT, HASH);
        write(1024, pattern(8));
        write(1030, pattern(8));
        zeroOrDiscard(BlockDevice.T_WRITE_ZEROES, 1550, 4);
        write(1534, pattern(4)); // both ranges, both already logged
        assertEquals(List.of(
                "blk0: refused a guest write to sectors 1024-1031 in fenced range ROOT-A"
                        + " (this range's later refusals are counted, not logged)",
                "blk0: refused a guest write-zeroes to sectors 1550-1553 in fenced range HASH-A"
                        + " (this range's later refusals are counted, not logged)"), bench.log);
        assertEquals(4, count("fenced_writes"));
        assertEquals(3, count("fenced_writes/ROOT-A"));
        assertEquals(2, count("fenced_writes/HASH-A"));
    }

    @Test
    void everyRangeHasItsCounterFromTheStart() throws IOException {
        start(ROOT, HASH);
        Map<String, Long> snapshot = device.metrics().snapshot();
        assertEquals(0L, snapshot.get("fenced_writes"));
        assertEquals(0L, snapshot.get("fenced_writes/ROOT-A"));
        assertEquals(0L, snapshot.get("fenced_writes/HASH-A"));
        device.close();
        device = new BlockDevice("blk1", BlockFile.open(file, false), "s");
        assertEquals(0L, device.metrics().snapshot().get("fenced_writes"), "an unfenced drive shows a zero too");
    }

    @Test
    void aReadOnlyDriveKeepsRejectingWritesAsBefore() throws IOException {
        start(List.of(ROOT), true);
        assertEquals(BlockDevice.S_IOERR, write(1024, pattern(1)));
        assertEquals(BlockDevice.S_IOERR, write(0, pattern(1)));
        assertEquals(2, count("rejected_writes"));
        assertEquals(0, count("fenced_writes"));
        assertTrue(bench.log.isEmpty());
        assertArrayEquals(original, Files.readAllBytes(file));
    }

    @Test
    void badRangesAreRejectedWhereTheyAreMade() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> new FencedRange("X", -1, 5));
        assertThrows(IllegalArgumentException.class, () -> new FencedRange("X", 6, 5));
        assertThrows(IllegalArgumentException.class, () -> new FencedRange(" ", 0, 5));
        assertThrows(NullPointerException.class, () -> new FencedRange(null, 0, 5));
        assertEquals(5, new FencedRange("X", 5, 5).lastSector(), "a single sector is a range");
        Path p = dir.resolve("dup.img");
        Files.write(p, new byte[4096]);
        try (BlockFile f = BlockFile.open(p, false)) {
            List<FencedRange> twins = List.of(new FencedRange("X", 0, 1), new FencedRange("X", 4, 5));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BlockDevice("blk0", f, "s", twins));
            assertTrue(e.getMessage().contains("named X"), e.getMessage());
        }
    }
}
