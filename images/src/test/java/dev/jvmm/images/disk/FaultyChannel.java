package dev.jvmm.images.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * A FileChannel over a real one that simulates a crash for the crash-consistency tests: it
 * counts the writes of every channel sharing its {@link Crash}, and at the chosen write it
 * writes nothing, or only the first half of the buffer, then throws; from then on every write
 * and force throws, as nothing more reaches the disk after a crash.
 */
final class FaultyChannel extends FileChannel {
    /** One simulated run: where it crashes (-1: never, a dry run) and how many writes it saw. */
    static final class Crash {
        final int atWrite;
        final boolean midWrite;
        int writes;
        boolean crashed;

        Crash(int atWrite, boolean midWrite) {
            this.atWrite = atWrite;
            this.midWrite = midWrite;
        }

        static Crash never() {
            return new Crash(-1, false);
        }

        /** Opens channels for DiskImage: those that may write are wrapped, read-only ones are left as they are. */
        DiskImage.ChannelOpener opener() {
            return (Path file, OpenOption... options) -> {
                FileChannel ch = FileChannel.open(file, options);
                return Set.of(options).contains(StandardOpenOption.WRITE) ? new FaultyChannel(ch, this) : ch;
            };
        }

        @Override
        public String toString() {
            return (midWrite ? "halfway through" : "before") + " write " + atWrite;
        }
    }

    private final FileChannel base;
    private final Crash crash;

    FaultyChannel(FileChannel base, Crash crash) {
        this.base = base;
        this.crash = crash;
    }

    private void alive() throws IOException {
        if (crash.crashed) {
            throw new IOException("simulated crash: nothing more is written");
        }
    }

    /** One write call: at {@code pos}, or at the channel's position when {@code atPosition}. */
    private int write(ByteBuffer src, long pos, boolean atPosition) throws IOException {
        alive();
        int index = crash.writes++;
        if (index == crash.atWrite) {
            crash.crashed = true;
            if (crash.midWrite) {
                ByteBuffer half = src.slice().limit(src.remaining() / 2);
                while (half.hasRemaining()) {
                    if (atPosition) {
                        base.write(half);
                    } else {
                        pos += base.write(half, pos);
                    }
                }
            }
            throw new IOException("simulated crash " + crash);
        }
        return atPosition ? base.write(src) : base.write(src, pos);
    }

    @Override
    public int write(ByteBuffer src, long pos) throws IOException {
        return write(src, pos, false);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return write(src, 0, true);
    }

    @Override
    public long write(ByteBuffer[] srcs, int off, int len) throws IOException {
        long n = 0;
        for (int i = off; i < off + len; i++) {
            n += write(srcs[i]);
        }
        return n;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        alive();
        base.force(metaData);
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        alive();
        base.truncate(size);
        return this;
    }

    @Override
    public int read(ByteBuffer dst, long pos) throws IOException {
        return base.read(dst, pos);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return base.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int off, int len) throws IOException {
        return base.read(dsts, off, len);
    }

    @Override
    public long position() throws IOException {
        return base.position();
    }

    @Override
    public FileChannel position(long p) throws IOException {
        base.position(p);
        return this;
    }

    @Override
    public long size() throws IOException {
        return base.size();
    }

    @Override
    public long transferTo(long pos, long count, WritableByteChannel target) throws IOException {
        return base.transferTo(pos, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long pos, long count) {
        throw new UnsupportedOperationException("writes must go through write() to be counted");
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long pos, long size) {
        throw new UnsupportedOperationException("writes must go through write() to be counted");
    }

    @Override
    public FileLock lock(long pos, long size, boolean shared) throws IOException {
        return base.lock(pos, size, shared);
    }

    @Override
    public FileLock tryLock(long pos, long size, boolean shared) throws IOException {
        return base.tryLock(pos, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        base.close();
    }
}
