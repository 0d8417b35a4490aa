package dev.jvmm.boot.ext4;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The byte range of a channel that holds one file system (a partition). All reads of the reader
 * go through here, so this is the one place that keeps them inside [offset, offset+length).
 */
final class Window {
    private final FileChannel ch;
    private final long offset;
    private final long length;

    Window(FileChannel ch, long offset, long length) throws IOException, Ext4Exception {
        if (offset < 0 || length < 0 || offset > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException("bad window: offset " + offset + ", length " + length);
        }
        long size = ch.size();
        if (offset + length > size) {
            throw new Ext4Exception("image truncated: the partition ends at byte " + (offset + length)
                    + " but the image has only " + size + " bytes");
        }
        this.ch = ch;
        this.offset = offset;
        this.length = length;
    }

    long length() {
        return length;
    }

    byte[] read(long pos, int len, String what) throws IOException, Ext4Exception {
        byte[] b = new byte[checked(pos, len, what)];
        readInto(pos, b, 0, len, what);
        return b;
    }

    /** Reads len bytes at window position pos into dst[off, off+len). */
    void readInto(long pos, byte[] dst, int off, int len, String what) throws IOException, Ext4Exception {
        checked(pos, len, what);
        ByteBuffer buf = ByteBuffer.wrap(dst, off, len);
        long at = offset + pos;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, at);
            if (n < 0) {
                throw new Ext4Exception("image truncated: end of file at byte " + at + " while reading " + what);
            }
            at += n;
        }
    }

    private int checked(long pos, int len, String what) throws Ext4Exception {
        if (len < 0 || pos < 0 || pos > length - len) {
            throw new Ext4Exception(what + " lies outside the file system (" + len + " bytes at byte " + pos
                    + " of " + length + ")");
        }
        return len;
    }
}
