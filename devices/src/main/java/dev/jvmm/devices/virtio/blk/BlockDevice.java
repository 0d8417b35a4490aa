package dev.jvmm.devices.virtio.blk;

import dev.jvmm.devices.virtio.DescriptorChain;
import dev.jvmm.devices.virtio.DeviceContext;
import dev.jvmm.devices.virtio.QueueDevice;
import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.VirtioFeatures;
import dev.jvmm.devices.virtio.VirtqueueException;
import dev.jvmm.devices.virtio.blk.WriteFence.Extent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * virtio-blk (virtio 1.2, 5.2) on one request queue: reads, writes, flush (fsync), GET_ID,
 * DISCARD and WRITE_ZEROES. Data moves between the file and guest memory views with positional
 * I/O: no bounce buffer when guest memory is a direct buffer. A read-only drive offers
 * VIRTIO_BLK_F_RO and answers every write-like request IOERR, counting it.
 *
 * <p>A read-write drive may carry a write fence: {@link FencedRange}s the guest can read but not
 * write, discard or zero (the booted slot's root, hash and kernel partitions, say, on a disk whose
 * data partitions must stay writable). A write-like request touching any fenced sector, in any of
 * its segments, is refused whole with IOERR before anything reaches the file, counted under
 * {@code fenced_writes} and {@code fenced_writes/<range>}, and logged once per range. The drive
 * knows nothing of partition tables or slots; whoever creates it names the ranges.
 */
public final class BlockDevice extends QueueDevice {
    public static final int F_SIZE_MAX = 1;
    public static final int F_SEG_MAX = 2;
    public static final int F_RO = 5;
    public static final int F_BLK_SIZE = 6;
    public static final int F_FLUSH = 9;
    public static final int F_DISCARD = 13;
    public static final int F_WRITE_ZEROES = 14;

    public static final int T_IN = 0;
    public static final int T_OUT = 1;
    public static final int T_FLUSH = 4;
    public static final int T_GET_ID = 8;
    public static final int T_DISCARD = 11;
    public static final int T_WRITE_ZEROES = 13;

    public static final int S_OK = 0;
    public static final int S_IOERR = 1;
    public static final int S_UNSUPP = 2;

    public static final int SECTOR = 512;
    public static final int QUEUE_SIZE = 256;
    /** Segments per request and bytes per segment, as advertised in config space. */
    public static final int SEG_MAX = 128;
    public static final int SIZE_MAX = 1 << 20;
    public static final int MAX_DISCARD_SEG = 32;
    public static final int MAX_DISCARD_SECTORS = (1 << 30) / SECTOR;
    public static final int ID_BYTES = 20;
    static final int CONFIG_SIZE = 60;

    private final String name;
    private final BlockFile file;
    private final String serial;
    private final long capacitySectors;
    private final byte[] config;
    private final WriteFence fence;

    /** A drive without a write fence. */
    public BlockDevice(String name, BlockFile file, String serial) {
        this(name, file, serial, List.of());
    }

    /** A drive whose {@code fences} (overlapping or in any order) the guest may read but not change. */
    public BlockDevice(String name, BlockFile file, String serial, List<FencedRange> fences) {
        this(name, file, serial, new WriteFence(fences));
    }

    private BlockDevice(String name, BlockFile file, String serial, WriteFence fence) {
        super(counters(fence));
        this.fence = fence;
        this.name = name;
        this.file = file;
        this.serial = serial == null ? "" : serial;
        this.capacitySectors = file.size() / SECTOR;
        ByteBuffer c = ByteBuffer.allocate(CONFIG_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        c.putLong(0, capacitySectors);
        c.putInt(8, SIZE_MAX);
        c.putInt(12, SEG_MAX);
        c.putInt(20, SECTOR);
        c.putInt(36, MAX_DISCARD_SECTORS);
        c.putInt(40, MAX_DISCARD_SEG);
        c.putInt(44, 4096 / SECTOR); // discard alignment: the host's page
        c.putInt(48, MAX_DISCARD_SECTORS);
        c.putInt(52, MAX_DISCARD_SEG);
        c.put(56, (byte) (file.supportsDiscard() ? 1 : 0)); // write_zeroes_may_unmap
        this.config = c.array();
    }

    private static String[] counters(WriteFence fence) {
        List<String> names = new ArrayList<>(List.of("requests", "read_bytes", "write_bytes", "flushes", "discards",
                "write_zeroes", "errors", "rejected_writes", "unsupported"));
        names.addAll(fence.counters());
        return names.toArray(String[]::new);
    }

    @Override
    public int deviceType() {
        return TYPE_BLOCK;
    }

    @Override
    public String name() {
        return name;
    }

    public BlockFile file() {
        return file;
    }

    @Override
    public long features() {
        long f = VirtioFeatures.bit(F_SIZE_MAX) | VirtioFeatures.bit(F_SEG_MAX) | VirtioFeatures.bit(F_BLK_SIZE)
                | VirtioFeatures.bit(F_FLUSH);
        if (file.readOnly()) {
            f |= VirtioFeatures.bit(F_RO);
        } else {
            f |= VirtioFeatures.bit(F_WRITE_ZEROES);
            if (file.supportsDiscard()) {
                f |= VirtioFeatures.bit(F_DISCARD);
            }
        }
        return f;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int maxQueueSize(int index) {
        return QUEUE_SIZE;
    }

    @Override
    public long maxChainBytes(int index) {
        return (long) SEG_MAX * SIZE_MAX + 4096; // data plus header, status and slack
    }

    @Override
    public void readConfig(int offset, byte[] data) {
        MmioTransport.readConfigBytes(config, offset, data);
    }




    @Override
    public synchronized void queueNotify(int index) {
        if (context == null || index != 0) {
            return;
        }
        context.drain(0, this::handle);
    }

    /** Serves one request; returns the bytes written into the chain (data plus status). */
    long handle(DescriptorChain chain) {
        metrics.increment("requests");
        DescriptorChain.Reader in = chain.reader();
        DescriptorChain.Writer out = chain.writer();
        long writable = chain.writableBytes();
        if (writable < 1) {
            metrics.increment("errors"); // no room even for a status byte: nothing to answer
            return 0;
        }
        byte[] header = new byte[16];
        try {
            in.readFully(header);
        } catch (VirtqueueException e) {
            return refuse(out, writable, "errors");
        }
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int type = h.getInt(0);
        long sector = h.getLong(8);
        long dataIn = chain.readableBytes() - 16; // write payload
        long dataOut = writable - 1; // read buffer, status byte excluded
        try {
            return switch (type) {
                case T_IN -> read(out, sector, dataOut, writable);
                case T_OUT -> write(in, out, sector, dataIn, writable);
                case T_FLUSH -> flush(out, writable);
                case T_GET_ID -> getId(out, writable);
                case T_DISCARD, T_WRITE_ZEROES -> discardOrZero(type, in, out, dataIn, writable);
                default -> {
                    metrics.increment("unsupported");
                    yield finish(out, writable, S_UNSUPP, 0);
                }
            };
        } catch (IOException e) {
            return refuse(out, writable, "errors");
        }
    }

    @FunctionalInterface
    private interface FileIo {
        void apply(ByteBuffer view, long position) throws IOException;
    }

    /** Moves {@code bytes} between the file at {@code position} and the chain's guest-memory views. */
    private static void transfer(DescriptorChain.Cursor views, long position, long bytes, FileIo io) throws IOException {
        while (bytes > 0) {
            ByteBuffer view = views.next((int) Math.min(bytes, Integer.MAX_VALUE));
            int n = view.remaining();
            io.apply(view, position);
            position += n;
            bytes -= n;
        }
    }

    private boolean inRange(long sector, long bytes) {
        return bytes % SECTOR == 0 && sector >= 0 && sector <= capacitySectors && bytes / SECTOR <= capacitySectors - sector;
    }

    private long read(DescriptorChain.Writer out, long sector, long bytes, long writable) throws IOException {
        if (!inRange(sector, bytes)) {
            return refuse(out, writable, "errors");
        }
        transfer(out, sector * SECTOR, bytes, file::read);
        metrics.add("read_bytes", bytes);
        return finish(out, writable, S_OK, bytes);
    }

    private long write(DescriptorChain.Reader in, DescriptorChain.Writer out, long sector, long bytes, long writable)
            throws IOException {
        if (file.readOnly()) {
            return refuse(out, writable, "rejected_writes");
        }
        if (!inRange(sector, bytes)) {
            return refuse(out, writable, "errors");
        }
        if (fence.refuses("write", List.of(new Extent(sector, bytes / SECTOR)), metrics, this::log)) {
            return finish(out, writable, S_IOERR, 0);
        }
        transfer(in, sector * SECTOR, bytes, file::write);
        metrics.add("write_bytes", bytes);
        return finish(out, writable, S_OK, 0);
    }

    private long flush(DescriptorChain.Writer out, long writable) throws IOException {
        metrics.increment("flushes");
        if (!file.readOnly()) {
            file.flush();
        }
        return finish(out, writable, S_OK, 0);
    }

    private long getId(DescriptorChain.Writer out, long writable) {
        byte[] id = serial.getBytes(StandardCharsets.US_ASCII);
        int n = (int) Math.min(Math.min(id.length, ID_BYTES), writable - 1);
        out.write(id, 0, n);
        if (n < ID_BYTES && n < writable - 1) {
            out.write(new byte[1], 0, 1); // NUL-terminated when shorter than 20 bytes
            n++;
        }
        return finish(out, writable, S_OK, n);
    }

    private long discardOrZero(int type, DescriptorChain.Reader in, DescriptorChain.Writer out, long payload, long writable)
            throws IOException {
        String counter = type == T_DISCARD ? "discards" : "write_zeroes";
        if (file.readOnly()) {
            return refuse(out, writable, "rejected_writes");
        }
        if (type == T_DISCARD && !file.supportsDiscard()) {
            metrics.increment("unsupported");
            return finish(out, writable, S_UNSUPP, 0);
        }
        if (payload <= 0 || payload % 16 != 0 || payload / 16 > MAX_DISCARD_SEG) {
            return refuse(out, writable, "errors");
        }
        // Every segment is read and checked before any is applied: one bad or fenced segment
        // refuses the request whole.
        int count = (int) (payload / 16);
        List<Extent> extents = new ArrayList<>(count);
        boolean[] unmap = new boolean[count];
        byte[] seg = new byte[16];
        for (int i = 0; i < count; i++) {
            try {
                in.readFully(seg);
            } catch (VirtqueueException e) {
                return refuse(out, writable, "errors");
            }
            ByteBuffer s = ByteBuffer.wrap(seg).order(ByteOrder.LITTLE_ENDIAN);
            long sector = s.getLong(0);
            long sectors = s.getInt(8) & 0xffffffffL;
            int flags = s.getInt(12);
            if (sectors > MAX_DISCARD_SECTORS || !inRange(sector, sectors * SECTOR) || (flags & ~1) != 0) {
                return refuse(out, writable, "errors");
            }
            extents.add(new Extent(sector, sectors));
            unmap[i] = (flags & 1) != 0;
        }
        if (fence.refuses(type == T_DISCARD ? "discard" : "write-zeroes", extents, metrics, this::log)) {
            return finish(out, writable, S_IOERR, 0);
        }
        for (int i = 0; i < count; i++) {
            long position = extents.get(i).sector() * SECTOR;
            long bytes = extents.get(i).sectors() * SECTOR;
            if (type == T_DISCARD) {
                if (!file.discard(position, bytes)) {
                    return refuse(out, writable, "errors");
                }
            } else {
                file.writeZeroes(position, bytes, unmap[i]);
            }
        }
        metrics.increment(counter);
        return finish(out, writable, S_OK, 0);
    }

    /** A line for the VMM's log, through the transport while the device runs. */
    private void log(String message) {
        DeviceContext c = context;
        if (c != null) {
            c.signals().log(message);
        }
    }

    /** Counts the request under {@code counter} and answers it IOERR. */
    private long refuse(DescriptorChain.Writer out, long writable, String counter) {
        metrics.increment(counter);
        return finish(out, writable, S_IOERR, 0);
    }

    /**
     * Writes the status into the chain's last byte, after {@code dataWritten} bytes of data; the
     * used length covers both.
     */
    private static long finish(DescriptorChain.Writer out, long writable, int status, long dataWritten) {
        long statusAt = writable - 1;
        long already = out.bytesWritten();
        if (already < statusAt) {
            out.skip(statusAt - already);
        }
        out.write(new byte[] {(byte) status}, 0, 1);
        return dataWritten + 1;
    }

    @Override
    public void close() {
        try {
            file.close();
        } catch (IOException ignored) {
            // closing at VM exit; nothing left to lose
        }
    }
}
