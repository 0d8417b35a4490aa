package dev.jvmm.devices.virtio.blk;

import dev.jvmm.vmm.sys.DiskLock;
import dev.jvmm.vmm.sys.Syscalls;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The host file (or block device) behind a virtio-blk drive. Positional reads and writes go
 * straight between the file and guest memory views; discard and zeroing use fallocate where the
 * file system supports it, which is probed once at open without touching data. The file is
 * locked while open (exclusive for a read-write drive, shared for read-only; see {@link DiskLock}),
 * so a second VM or an image command cannot write under the guest.
 */
public final class BlockFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final int fd; // for fallocate, which FileChannel does not offer
    private final boolean readOnly;
    private final long size;
    private final boolean punchHole;
    private final DiskLock lock;
    private final Fsync fsync;
    private volatile IOException flushFailure;

    /** How a flush reaches the disk: FileChannel.force, or in tests a failure on cue. */
    @FunctionalInterface
    interface Fsync {
        void force(FileChannel channel) throws IOException;
    }

    private BlockFile(Path path, FileChannel channel, int fd, boolean readOnly, long size, boolean punchHole, DiskLock lock,
                      Fsync fsync) {
        this.path = path;
        this.lock = lock;
        this.fsync = fsync;
        this.channel = channel;
        this.fd = fd;
        this.readOnly = readOnly;
        this.size = size;
        this.punchHole = punchHole;
    }

    /**
     * Opens and locks {@code path}; errors name the file and say what is wrong with it, and a
     * file another process holds is a {@link DiskLock.InUseException} saying who.
     */
    public static BlockFile open(Path path, boolean readOnly) throws IOException {
        return open(path, readOnly, ch -> ch.force(true));
    }

    static BlockFile open(Path path, boolean readOnly, Fsync fsync) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "drive file does not exist");
        }
        if (Files.isDirectory(path)) {
            throw new IOException("drive " + path + " is a directory");
        }
        FileChannel ch;
        try {
            ch = readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (AccessDeniedException e) {
            throw new AccessDeniedException(path.toString(), null, readOnly ? "cannot read the drive file"
                    : "cannot open the drive file for writing (add ,ro for a read-only drive)");
        }
        DiskLock lock;
        try {
            lock = DiskLock.acquire(path, !readOnly);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        int fd = -1;
        try {
            long size = ch.size(); // BLKGETSIZE64 for block devices
            boolean punch = false;
            if (!readOnly) {
                fd = Syscalls.open(path.toString(), Syscalls.O_RDWR);
                // Punching a hole past the end changes nothing, and fails where holes are unsupported.
                punch = Syscalls.fallocate(fd, Syscalls.FALLOC_FL_PUNCH_HOLE | Syscalls.FALLOC_FL_KEEP_SIZE, size, 4096) == 0;
            }
            return new BlockFile(path, ch, fd, readOnly, size, punch, lock, fsync);
        } catch (IOException | RuntimeException e) {
            Syscalls.close(fd);
            ch.close();
            lock.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public boolean readOnly() {
        return readOnly;
    }

    public long size() {
        return size;
    }

    public boolean supportsDiscard() {
        return punchHole;
    }

    /** Fills {@code dst} from {@code position}; bytes past the end of the file read as zero. */
    public void read(ByteBuffer dst, long position) throws IOException {
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) {
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            position += n;
        }
    }

    public void write(ByteBuffer src, long position) throws IOException {
        while (src.hasRemaining()) {
            position += channel.write(src, position);
        }
    }

    /**
     * fsync: data and metadata reach the disk. A failed fsync fails every later flush too: Linux
     * reports a writeback error once and may have dropped the dirty pages, so a later fsync that
     * succeeds would tell the guest that writes it was told had failed are now safe.
     */
    public void flush() throws IOException {
        IOException earlier = flushFailure;
        if (earlier != null) {
            throw new IOException("an earlier flush of " + path + " failed (" + earlier.getMessage()
                    + "); writes since may be lost", earlier);
        }
        try {
            fsync.force(channel);
        } catch (IOException e) {
            flushFailure = e;
            throw e;
        }
    }

    /** Gives the range back to the file system; false where holes are unsupported. */
    public boolean discard(long position, long length) {
        return punchHole && Syscalls.fallocate(fd, Syscalls.FALLOC_FL_PUNCH_HOLE | Syscalls.FALLOC_FL_KEEP_SIZE, position, length) == 0;
    }

    /** Makes the range read as zeros: a hole if {@code unmap} and possible, else zeroed in place. */
    public void writeZeroes(long position, long length, boolean unmap) throws IOException {
        if (unmap && discard(position, length)) {
            return;
        }
        if (fd >= 0 && Syscalls.fallocate(fd, Syscalls.FALLOC_FL_ZERO_RANGE | Syscalls.FALLOC_FL_KEEP_SIZE, position, length) == 0) {
            return;
        }
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(length, 1 << 20));
        while (length > 0) {
            zeros.clear().limit((int) Math.min(length, zeros.capacity()));
            int n = zeros.limit();
            write(zeros, position);
            position += n;
            length -= n;
        }
    }

    @Override
    public void close() throws IOException {
        Syscalls.close(fd);
        try {
            channel.close();
        } finally {
            lock.close();
        }
    }
}
