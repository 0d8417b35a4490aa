package dev.jvmm.images.disk;

import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * LZ4 frames (Bottlerocket's image download format), through lz4-java. Decompression is bounded:
 * a frame can expand 254:1, so a small hostile file must not fill the host's disk.
 */
public final class Lz4 {
    static final int FRAME_MAGIC = 0x184D2204;
    /** The most a frame may expand to: far above any disk image jvmm boots, far below a bomb's reach. */
    public static final long MAX_DECOMPRESSED = 64L << 30;

    private Lz4() {}

    public static boolean isLz4(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && ((m[0] & 0xff) | (m[1] & 0xff) << 8 | (m[2] & 0xff) << 16 | (m[3] & 0xff) << 24) == FRAME_MAGIC;
        }
    }

    /** One frame with 4 MiB independent blocks, content size and content checksum. */
    public static void compress(Path in, Path out) throws IOException {
        Path tmp = out.resolveSibling(out.getFileName() + ".partial");
        try (InputStream i = Files.newInputStream(in);
             OutputStream o = new LZ4FrameOutputStream(Files.newOutputStream(tmp), LZ4FrameOutputStream.BLOCKSIZE.SIZE_4MB,
                     Files.size(in), LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE,
                     LZ4FrameOutputStream.FLG.Bits.CONTENT_SIZE, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM)) {
            i.transferTo(o);
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Decompresses every frame of {@code in}; a damaged frame is an error naming the file. Refuses,
     * before writing or as soon as the output passes it, more than {@link #MAX_DECOMPRESSED} bytes
     * or more than the free space of {@code out}'s file system. Returns the bytes written.
     */
    public static long decompress(Path in, Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        return decompress(in, out, MAX_DECOMPRESSED, Files.getFileStore(parent).getUsableSpace());
    }

    static long decompress(Path in, Path out, long cap, long free) throws IOException {
        long declared;
        try (InputStream head = Files.newInputStream(in)) {
            byte[] h = head.readNBytes(14);
            // FLG bit 5: block independence. lz4-java reads only independent blocks.
            if (h.length >= 5 && (h[4] & 0x20) == 0) {
                throw new IOException(in + " uses linked LZ4 blocks (lz4 -BD), which jvmm does not read; "
                        + "recompress it without -BD");
            }
            // FLG bit 3: the frame header carries the content size (little-endian, after BD).
            declared = h.length >= 14 && (h[4] & 0x08) != 0
                    ? ByteBuffer.wrap(h, 6, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() : -1;
        }
        if (declared < -1 || declared > cap) {
            throw new IOException(in + " declares " + unsigned(declared) + " bytes decompressed, over jvmm's cap of "
                    + cap + " bytes; refusing it (a decompression bomb or a damaged header)");
        }
        if (declared > free) {
            throw new IOException(in + " decompresses to " + declared + " bytes but " + out.toAbsolutePath().getParent()
                    + " has only " + free + " bytes free");
        }
        long limit = Math.min(cap, free);
        long written = 0;
        try (InputStream i = new LZ4FrameInputStream(Files.newInputStream(in));
             OutputStream o = Files.newOutputStream(out)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = i.read(buf)) > 0) {
                written += n;
                if (written > limit) {
                    throw new Overflow(in + (limit == cap ? " expands past jvmm's cap of " + cap + " bytes; refusing it"
                            + " (a decompression bomb?)" : " expands past the " + free + " bytes free in "
                            + out.toAbsolutePath().getParent()));
                }
                o.write(buf, 0, n);
            }
        } catch (Overflow e) {
            Files.deleteIfExists(out);
            throw new IOException(e.getMessage());
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(out);
            throw new IOException("corrupt lz4 frame in " + in + ": " + (e.getMessage() == null ? e : e.getMessage()));
        }
        return written;
    }

    private static String unsigned(long v) {
        return Long.toUnsignedString(v);
    }

    /** The cap or the free space was passed: its own message, not "corrupt frame". */
    private static final class Overflow extends IOException {
        Overflow(String message) {
            super(message);
        }
    }
}
