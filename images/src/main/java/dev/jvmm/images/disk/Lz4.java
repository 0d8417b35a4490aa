package dev.jvmm.images.disk;

import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** LZ4 frames (Bottlerocket's image download format), through lz4-java. */
public final class Lz4 {
    static final int FRAME_MAGIC = 0x184D2204;

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

    /** Decompresses every frame of {@code in}; a damaged frame is an error naming the file. */
    public static void decompress(Path in, Path out) throws IOException {
        try (InputStream head = Files.newInputStream(in)) {
            byte[] h = head.readNBytes(5);
            // FLG bit 5: block independence. lz4-java reads only independent blocks.
            if (h.length == 5 && (h[4] & 0x20) == 0) {
                throw new IOException(in + " uses linked LZ4 blocks (lz4 -BD), which jvmm does not read; "
                        + "recompress it without -BD");
            }
        }
        try (InputStream i = new LZ4FrameInputStream(Files.newInputStream(in));
             OutputStream o = Files.newOutputStream(out)) {
            i.transferTo(o);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(out);
            throw new IOException("corrupt lz4 frame in " + in + ": " + (e.getMessage() == null ? e : e.getMessage()));
        }
    }
}
