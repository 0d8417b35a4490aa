package dev.jvmm.boot.ext4;

import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A read-only FileChannel over a byte array that counts reads touching bytes outside an allowed
 * range: the test's witness that the reader stays inside its partition window, and a fast
 * medium for fuzzing without temporary files.
 */
final class MemChannel extends FileChannel {
    private final byte[] data;
    private final long allowedFrom;
    private final long allowedTo;
    private long position;
    private long outside;
    private long reads;

    MemChannel(byte[] data, long allowedFrom, long allowedTo) {
        this.data = data;
        this.allowedFrom = allowedFrom;
        this.allowedTo = allowedTo;
    }

    MemChannel(byte[] data) {
        this(data, 0, data.length);
    }

    long outsideReads() {
        return outside;
    }

    long reads() {
        return reads;
    }

    @Override
    public int read(ByteBuffer dst, long pos) {
        reads++;
        if (pos < allowedFrom || pos + dst.remaining() > allowedTo) {
            outside++;
        }
        if (pos >= data.length) {
            return -1;
        }
        int n = (int) Math.min(dst.remaining(), data.length - pos);
        dst.put(data, (int) pos, n);
        return n;
    }

    @Override
    public int read(ByteBuffer dst) {
        int n = read(dst, position);
        if (n > 0) {
            position += n;
        }
        return n;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) {
        throw new UnsupportedOperationException();
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
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
    public FileChannel position(long newPosition) {
        position = newPosition;
        return this;
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public FileChannel truncate(long size) {
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
    public MappedByteBuffer map(MapMode mode, long pos, long size) {
        throw new UnsupportedOperationException();
    }

    @Override
    public FileLock lock(long pos, long size, boolean shared) {
        throw new UnsupportedOperationException();
    }

    @Override
    public FileLock tryLock(long pos, long size, boolean shared) {
        throw new UnsupportedOperationException();
    }

    @Override
    protected void implCloseChannel() {
    }
}
