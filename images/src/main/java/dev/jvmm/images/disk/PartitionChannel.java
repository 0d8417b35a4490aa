package dev.jvmm.images.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/** A read-only FileChannel over [offset, offset+size) of another channel; reads past the end see EOF. */
final class PartitionChannel extends FileChannel {
    private final FileChannel base;
    private final long offset;
    private final long size;
    private long position;

    PartitionChannel(FileChannel base, long offset, long size) {
        this.base = base;
        this.offset = offset;
        this.size = size;
    }

    @Override
    public int read(ByteBuffer dst, long pos) throws IOException {
        if (pos >= size) {
            return -1;
        }
        int want = (int) Math.min(dst.remaining(), size - pos);
        ByteBuffer slice = dst.slice().limit(want);
        int n = base.read(slice, offset + pos);
        if (n > 0) {
            dst.position(dst.position() + n);
        }
        return n;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int n = read(dst, position);
        if (n > 0) {
            position += n;
        }
        return n;
    }

    @Override
    public long read(ByteBuffer[] dsts, int off, int len) throws IOException {
        long total = 0;
        for (int i = off; i < off + len; i++) {
            int n = read(dsts[i]);
            if (n < 0) {
                return total == 0 ? -1 : total;
            }
            total += n;
        }
        return total;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long write(ByteBuffer[] srcs, int off, int len) {
        throw new NonWritableChannelException();
    }

    @Override
    public int write(ByteBuffer src, long pos) {
        throw new NonWritableChannelException();
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public FileChannel position(long p) {
        position = p;
        return this;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public FileChannel truncate(long s) {
        throw new NonWritableChannelException();
    }

    @Override
    public void force(boolean metaData) {
    }

    @Override
    public long transferTo(long pos, long count, WritableByteChannel target) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long pos, long count) {
        throw new NonWritableChannelException();
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long pos, long s) {
        throw new UnsupportedOperationException();
    }

    @Override
    public FileLock lock(long pos, long s, boolean shared) {
        throw new UnsupportedOperationException();
    }

    @Override
    public FileLock tryLock(long pos, long s, boolean shared) {
        throw new UnsupportedOperationException();
    }

    @Override
    protected void implCloseChannel() {
        // the base channel belongs to the caller
    }
}
