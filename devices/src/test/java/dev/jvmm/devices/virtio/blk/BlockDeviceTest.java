package dev.jvmm.devices.virtio.blk;

import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.TestBench;
import dev.jvmm.devices.virtio.VirtioFeatures;
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
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockDeviceTest {
    @TempDir
    Path dir;
    BlockDevice device;

    @AfterEach
    void close() {
        if (device != null) {
            device.close();
        }
    }

    private Path disk(int bytes, long seed) throws IOException {
        byte[] content = new byte[bytes];
        new Random(seed).nextBytes(content);
        Path p = dir.resolve("disk-" + seed + ".img");
        Files.write(p, content);
        return p;
    }

    private TestBench bench(Path file, boolean ro, String serial) throws IOException {
        device = new BlockDevice("blk0", BlockFile.open(file, ro), serial);
        return new TestBench(device).start();
    }

    private static byte[] header(int type, long sector) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putLong(8, sector).array();
    }

    /** Sends one request and returns its status byte; checks the used length. */
    private static int request(TestBench b, long expectUsedLen, Buf... bufs) {
        VirtqueueDriver q = b.queue(0);
        int head = q.add(bufs);
        b.kick(0);
        VirtqueueDriver.Used u = q.nextUsed();
        assertEquals(head, u.id());
        if (expectUsedLen >= 0) {
            assertEquals(expectUsedLen, u.len());
        }
        Buf status = bufs[bufs.length - 1];
        return q.contents(status)[status.len() - 1];
    }

    @Test
    void configSpaceShowsCapacityAndLimits() throws IOException {
        TestBench b = bench(disk(1 << 20, 1), false, "s");
        byte[] cap = new byte[8];
        b.transport.read(0x100, cap);
        assertEquals(2048, ByteBuffer.wrap(cap).order(ByteOrder.LITTLE_ENDIAN).getLong());
        byte[] seg = new byte[4];
        b.transport.read(0x100 + 12, seg);
        assertEquals(BlockDevice.SEG_MAX, ByteBuffer.wrap(seg).order(ByteOrder.LITTLE_ENDIAN).getInt());
        assertTrue(VirtioFeatures.has(b.negotiated, BlockDevice.F_FLUSH));
        assertTrue(VirtioFeatures.has(b.negotiated, BlockDevice.F_SEG_MAX));
        assertTrue(VirtioFeatures.has(b.negotiated, BlockDevice.F_SIZE_MAX));
        assertFalse(VirtioFeatures.has(b.negotiated, BlockDevice.F_RO));
    }

    @Test
    void readsWhatIsInTheFileAcrossSegments() throws IOException {
        Path f = disk(1 << 20, 2);
        byte[] want = Arrays.copyOfRange(Files.readAllBytes(f), 3 * 512, 3 * 512 + 4096);
        TestBench b = bench(f, false, "");
        VirtqueueDriver q = b.queue(0);
        Buf a = q.writable(1000);
        Buf c = q.writable(4096 - 1000);
        Buf status = q.writable(1);
        assertEquals(BlockDevice.S_OK, request(b, 4097, q.readable(header(BlockDevice.T_IN, 3)), a, c, status));
        byte[] got = new byte[4096];
        System.arraycopy(q.contents(a), 0, got, 0, 1000);
        System.arraycopy(q.contents(c), 0, got, 1000, 3096);
        assertArrayEquals(want, got);
        assertEquals(4096, device.metrics().get("read_bytes"));
    }

    @Test
    void writesReachTheFileAndFlushFsyncs() throws IOException {
        Path f = disk(1 << 20, 3);
        TestBench b = bench(f, false, "");
        VirtqueueDriver q = b.queue(0);
        byte[] data = new byte[8192];
        new Random(9).nextBytes(data);
        assertEquals(BlockDevice.S_OK, request(b, 1, q.readable(header(BlockDevice.T_OUT, 10)), q.readable(data), q.writable(1)));
        assertEquals(BlockDevice.S_OK, request(b, 1, q.readable(header(BlockDevice.T_FLUSH, 0)), q.writable(1)));
        byte[] on = Files.readAllBytes(f);
        assertArrayEquals(data, Arrays.copyOfRange(on, 5120, 5120 + 8192));
        assertEquals(1, device.metrics().get("flushes"));
        assertEquals(8192, device.metrics().get("write_bytes"));
    }

    @Test
    void indirectRequestsWork() throws IOException {
        Path f = disk(1 << 16, 4);
        TestBench b = bench(f, false, "");
        VirtqueueDriver q = b.queue(0);
        Buf data = q.writable(512);
        Buf status = q.writable(1);
        q.publish(q.indirect(q.readable(header(BlockDevice.T_IN, 1)), data, status));
        b.kick(0);
        assertEquals(513, q.nextUsed().len());
        assertArrayEquals(Arrays.copyOfRange(Files.readAllBytes(f), 512, 1024), q.contents(data));
    }

    @Test
    void readOnlyDriveRejectsAndCountsWrites() throws IOException {
        Path f = disk(1 << 16, 5);
        byte[] before = Files.readAllBytes(f);
        TestBench b = bench(f, true, "");
        assertTrue(VirtioFeatures.has(b.negotiated, BlockDevice.F_RO));
        VirtqueueDriver q = b.queue(0);
        assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(header(BlockDevice.T_OUT, 0)), q.readable(new byte[512]), q.writable(1)));
        assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(header(BlockDevice.T_WRITE_ZEROES, 0)),
                q.readable(new byte[16]), q.writable(1)));
        assertEquals(2, device.metrics().get("rejected_writes"));
        assertArrayEquals(before, Files.readAllBytes(f));
        // Reads still work.
        assertEquals(BlockDevice.S_OK, request(b, 513, q.readable(header(BlockDevice.T_IN, 0)), q.writable(512), q.writable(1)));
    }

    @Test
    void outOfRangeAndUnalignedRequestsFailCleanly() throws IOException {
        Path f = disk(4096, 6); // 8 sectors
        byte[] before = Files.readAllBytes(f);
        TestBench b = bench(f, false, "");
        VirtqueueDriver q = b.queue(0);
        assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(header(BlockDevice.T_IN, 7)), q.writable(1024), q.writable(1)));
        assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(header(BlockDevice.T_OUT, Long.MAX_VALUE / 256)), q.readable(new byte[512]), q.writable(1)));
        assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(header(BlockDevice.T_OUT, 0)), q.readable(new byte[100]), q.writable(1)));
        assertEquals(BlockDevice.S_UNSUPP, request(b, 1, q.readable(header(77, 0)), q.writable(1)));
        assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(new byte[5]), q.writable(1)), "header too short");
        assertArrayEquals(before, Files.readAllBytes(f));
    }

    @Test
    void getIdReturnsTheSerial() throws IOException {
        TestBench b = bench(disk(4096, 7), false, "jvmm-serial-1");
        VirtqueueDriver q = b.queue(0);
        Buf id = q.writable(20);
        assertEquals(BlockDevice.S_OK, request(b, 15, q.readable(header(BlockDevice.T_GET_ID, 0)), id, q.writable(1)));
        assertEquals("jvmm-serial-1\0", new String(q.contents(id), 0, 14, java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void writeZeroesAndDiscardZeroTheRange() throws IOException {
        Path f = disk(1 << 16, 8);
        TestBench b = bench(f, false, "");
        VirtqueueDriver q = b.queue(0);
        byte[] seg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 8).putInt(8, 8).putInt(12, 0).array();
        assertEquals(BlockDevice.S_OK, request(b, 1, q.readable(header(BlockDevice.T_WRITE_ZEROES, 0)), q.readable(seg), q.writable(1)));
        byte[] on = Files.readAllBytes(f);
        assertArrayEquals(new byte[4096], Arrays.copyOfRange(on, 4096, 8192));
        assertTrue(on[4095] != 0 || on[4094] != 0, "bytes before the range kept");
        if (device.file().supportsDiscard()) {
            assertTrue(VirtioFeatures.has(b.negotiated, BlockDevice.F_DISCARD));
            byte[] d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 32).putInt(8, 8).array();
            assertEquals(BlockDevice.S_OK, request(b, 1, q.readable(header(BlockDevice.T_DISCARD, 0)), q.readable(d), q.writable(1)));
            assertArrayEquals(new byte[4096], Arrays.copyOfRange(Files.readAllBytes(f), 32 * 512, 32 * 512 + 4096));
        }
        byte[] bad = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 120).putInt(8, 16).array();
        assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(header(BlockDevice.T_WRITE_ZEROES, 0)), q.readable(bad), q.writable(1)));
        assertEquals(1, device.metrics().get("write_zeroes"));
    }

    private static byte[] segment(long sector, int sectors, int flags) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, sector).putInt(8, sectors).putInt(12, flags).array();
    }

    @Test
    void writeZeroesAndDiscardReachTheLastSectorAndNoFurther() throws IOException {
        Path f = disk(1 << 16, 10); // 128 sectors
        byte[] before = Files.readAllBytes(f);
        TestBench b = bench(f, false, "");
        VirtqueueDriver q = b.queue(0);
        for (int flags : new int[] {0, 1}) { // zeroed in place, then unmapped
            assertEquals(BlockDevice.S_OK, request(b, 1, q.readable(header(BlockDevice.T_WRITE_ZEROES, 0)),
                    q.readable(segment(127 - flags, 1, flags)), q.writable(1)));
        }
        for (byte[] past : new byte[][] {segment(127, 2, 0), segment(128, 1, 0), segment(126, -1, 0)}) {
            assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(header(BlockDevice.T_WRITE_ZEROES, 0)),
                    q.readable(past), q.writable(1)));
        }
        byte[] on = Files.readAllBytes(f);
        assertEquals(1 << 16, on.length, "the file keeps its size");
        assertArrayEquals(new byte[1024], Arrays.copyOfRange(on, 126 * 512, 128 * 512));
        assertArrayEquals(Arrays.copyOfRange(before, 0, 126 * 512), Arrays.copyOfRange(on, 0, 126 * 512));
        if (device.file().supportsDiscard()) {
            Files.write(f, before);
            assertEquals(BlockDevice.S_OK, request(b, 1, q.readable(header(BlockDevice.T_DISCARD, 0)),
                    q.readable(segment(127, 1, 0)), q.writable(1)));
            assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(header(BlockDevice.T_DISCARD, 0)),
                    q.readable(segment(127, 2, 0)), q.writable(1)));
            on = Files.readAllBytes(f);
            assertEquals(1 << 16, on.length);
            assertArrayEquals(new byte[512], Arrays.copyOfRange(on, 127 * 512, 128 * 512));
            assertArrayEquals(Arrays.copyOfRange(before, 0, 127 * 512), Arrays.copyOfRange(on, 0, 127 * 512));
        }
    }

    @Test
    void aFlushAfterAFailedFsyncIsAnErrorToo() throws IOException {
        Path f = disk(1 << 16, 12);
        int[] fsyncs = {0};
        device = new BlockDevice("blk0", BlockFile.open(f, false, ch -> {
            if (++fsyncs[0] == 1) {
                throw new IOException("Input/output error");
            }
            ch.force(true);
        }), "");
        TestBench b = new TestBench(device).start();
        VirtqueueDriver q = b.queue(0);
        assertEquals(BlockDevice.S_OK, request(b, 1, q.readable(header(BlockDevice.T_OUT, 0)), q.readable(new byte[512]), q.writable(1)));
        assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(header(BlockDevice.T_FLUSH, 0)), q.writable(1)));
        assertEquals(BlockDevice.S_IOERR, request(b, 1, q.readable(header(BlockDevice.T_FLUSH, 0)), q.writable(1)),
                "the guest's write was never made durable; a second flush must not say it was");
    }

    @Test
    void chainWithoutStatusByteIsReturnedEmpty() throws IOException {
        TestBench b = bench(disk(4096, 9), false, "");
        VirtqueueDriver q = b.queue(0);
        q.add(q.readable(header(BlockDevice.T_IN, 0)));
        b.kick(0);
        assertEquals(0, q.nextUsed().len());
        assertEquals(1, device.metrics().get("errors"));
        assertEquals(0, b.transport.status() & MmioTransport.STATUS_NEEDS_RESET);
    }

    @Test
    void missingOrUnwritableFilesGiveClearErrors() throws IOException {
        IOException e = assertThrows(IOException.class, () -> BlockFile.open(dir.resolve("nope.img"), false));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        IOException d = assertThrows(IOException.class, () -> BlockFile.open(dir, false));
        assertTrue(d.getMessage().contains("directory"), d.getMessage());
    }
}
