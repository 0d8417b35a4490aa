package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.memory.GuestMemory;

import java.nio.ByteBuffer;

/**
 * One request from the driver: a validated list of guest buffers, device-readable ones first,
 * then device-writable ones. Built only by {@link Virtqueue#pop()}, which checks every index,
 * length and address, so a device reading or writing through {@link #reader()} and
 * {@link #writer()} can never touch memory outside what the driver handed over.
 */
public final class DescriptorChain {
    private final GuestMemory memory;
    private final int head;
    private final long[] addresses;
    private final int[] lengths;
    private final int readableCount;
    private final long readableBytes;
    private final long writableBytes;

    DescriptorChain(GuestMemory memory, int head, long[] addresses, int[] lengths, int readableCount) {
        this.memory = memory;
        this.head = head;
        this.addresses = addresses;
        this.lengths = lengths;
        this.readableCount = readableCount;
        long r = 0;
        long w = 0;
        for (int i = 0; i < lengths.length; i++) {
            if (i < readableCount) {
                r += lengths[i];
            } else {
                w += lengths[i];
            }
        }
        this.readableBytes = r;
        this.writableBytes = w;
    }

    /** The head descriptor's index: what goes back in the used ring. */
    public int head() {
        return head;
    }

    public long readableBytes() {
        return readableBytes;
    }

    public long writableBytes() {
        return writableBytes;
    }

    public int segmentCount() {
        return lengths.length;
    }

    public Reader reader() {
        return new Reader(0, readableCount);
    }

    public Writer writer() {
        return new Writer(readableCount, lengths.length);
    }

    /** A cursor over a run of segments; views are of guest memory itself, not copies. */
    public abstract class Cursor {
        private int segment;
        private final int end;
        private int offset; // within the current segment
        protected long done;

        Cursor(int start, int end) {
            this.segment = start;
            this.end = end;
            skipEmpty();
        }

        private void skipEmpty() {
            while (segment < end && offset == lengths[segment]) {
                segment++;
                offset = 0;
            }
        }

        /** Bytes left in this direction. */
        public long remaining() {
            long r = 0;
            for (int i = segment; i < end; i++) {
                r += lengths[i] - (i == segment ? offset : 0);
            }
            return r;
        }

        /**
         * A view of up to {@code max} guest bytes at the cursor, advancing past them; null when
         * nothing is left. The view may be shorter than asked (segment or memory-window end).
         */
        public ByteBuffer next(int max) {
            skipEmpty();
            if (segment >= end || max <= 0) {
                return null;
            }
            int n = Math.min(max, lengths[segment] - offset);
            ByteBuffer view = memory.sliceWithin(addresses[segment] + offset, n);
            offset += view.remaining();
            done += view.remaining();
            skipEmpty();
            return view;
        }

        /** Moves the cursor {@code n} bytes on without touching them. */
        public void skip(long n) {
            while (n > 0) {
                ByteBuffer b = next((int) Math.min(n, Integer.MAX_VALUE));
                if (b == null) {
                    return;
                }
                n -= b.remaining();
            }
        }
    }

    /** Reads the device-readable part of the chain, in order. */
    public final class Reader extends Cursor {
        Reader(int start, int end) {
            super(start, end);
        }

        /** Fills {@code dst} completely or throws; the header of a request, say. */
        public void readFully(byte[] dst) throws VirtqueueException {
            if (remaining() < dst.length) {
                throw new VirtqueueException("request is " + remaining() + " bytes, needs " + dst.length);
            }
            int off = 0;
            while (off < dst.length) {
                ByteBuffer b = next(dst.length - off);
                int n = b.remaining();
                b.get(dst, off, n);
                off += n;
            }
        }

        public long bytesRead() {
            return done;
        }
    }

    /** Writes the device-writable part of the chain, in order; counts what it wrote for the used ring. */
    public final class Writer extends Cursor {
        Writer(int start, int end) {
            super(start, end);
        }

        /** Writes as much of {@code src} as fits; returns how much that was. */
        public int write(byte[] src, int off, int len) {
            int written = 0;
            while (written < len) {
                ByteBuffer b = next(len - written);
                if (b == null) {
                    break;
                }
                int n = b.remaining();
                b.put(src, off + written, n);
                written += n;
            }
            return written;
        }

        public long bytesWritten() {
            return done;
        }
    }
}
