package dev.jvmm.images.disk;

import net.jpountz.lz4.LZ4FrameOutputStream;
import net.jpountz.xxhash.XXHashFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decompression is bounded: by the frame's declared content size before anything is written, and
 * by a running total for frames that declare none (or lie), against jvmm's cap and the free space.
 */
class Lz4Test {
    @TempDir
    Path dir;

    /** A frame of {@code bytes} zeros (about 250:1), with or without a content size in its header. */
    private Path zeros(long bytes, boolean contentSize) throws IOException {
        Path f = dir.resolve("zeros-" + bytes + "-" + contentSize + ".lz4");
        LZ4FrameOutputStream.FLG.Bits[] bits = contentSize
                ? new LZ4FrameOutputStream.FLG.Bits[] {LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE,
                        LZ4FrameOutputStream.FLG.Bits.CONTENT_SIZE}
                : new LZ4FrameOutputStream.FLG.Bits[] {LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE};
        try (OutputStream o = new LZ4FrameOutputStream(Files.newOutputStream(f), LZ4FrameOutputStream.BLOCKSIZE.SIZE_4MB,
                contentSize ? bytes : -1L, bits)) {
            byte[] block = new byte[1 << 16];
            for (long n = 0; n < bytes; n += block.length) {
                o.write(block, 0, (int) Math.min(block.length, bytes - n));
            }
        }
        return f;
    }

    /** Rewrites the frame header's content size, and its checksum so that lz4-java accepts it. */
    private static void declare(byte[] frame, long size) {
        ByteBuffer.wrap(frame, 6, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(size);
        frame[14] = (byte) (XXHashFactory.fastestInstance().hash32().hash(frame, 4, 10, 0) >> 8);
    }

    @Test
    void roundTripReturnsTheSize() throws IOException {
        byte[] content = new byte[300_000];
        new Random(1).nextBytes(content);
        Path plain = Files.write(dir.resolve("p.img"), content);
        Path lz4 = dir.resolve("p.img.lz4");
        Lz4.compress(plain, lz4);
        Path out = dir.resolve("out.img");
        assertEquals(content.length, Lz4.decompress(lz4, out));
        assertArrayEquals(content, Files.readAllBytes(out));
    }

    @Test
    void aDeclaredSizeOverTheCapIsRefusedBeforeWriting() throws IOException {
        Path lz4 = zeros(1 << 20, true);
        byte[] b = Files.readAllBytes(lz4);
        declare(b, Lz4.MAX_DECOMPRESSED + 1); // the bomb's claim
        Files.write(lz4, b);
        Path out = dir.resolve("out.img");
        IOException e = assertThrows(IOException.class, () -> Lz4.decompress(lz4, out));
        assertTrue(e.getMessage().contains("over jvmm's cap of " + Lz4.MAX_DECOMPRESSED + " bytes"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void aDeclaredSizeOverTheFreeSpaceIsRefusedBeforeWriting() throws IOException {
        Path lz4 = zeros(1 << 20, true);
        Path out = dir.resolve("out.img");
        IOException e = assertThrows(IOException.class, () -> Lz4.decompress(lz4, out, Lz4.MAX_DECOMPRESSED, 1000));
        assertEquals(lz4 + " decompresses to 1048576 bytes but " + dir + " has only 1000 bytes free", e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void aFrameWithoutASizeStopsAtTheCapOrTheFreeSpace() throws IOException {
        Path bomb = zeros(4 << 20, false);
        assertTrue(Files.size(bomb) < (4 << 20) / 200, "a bomb: " + Files.size(bomb) + " bytes");
        Path out = dir.resolve("out.img");
        IOException cap = assertThrows(IOException.class, () -> Lz4.decompress(bomb, out, 1 << 20, Long.MAX_VALUE));
        assertEquals(bomb + " expands past jvmm's cap of 1048576 bytes; refusing it (a decompression bomb?)", cap.getMessage());
        assertFalse(Files.exists(out), "the partial output is removed");
        IOException full = assertThrows(IOException.class, () -> Lz4.decompress(bomb, out, Lz4.MAX_DECOMPRESSED, 2 << 20));
        assertTrue(full.getMessage().contains("expands past the 2097152 bytes free in " + dir), full.getMessage());
        assertFalse(Files.exists(out));
        assertEquals(4 << 20, Lz4.decompress(bomb, out, 4 << 20, 4 << 20), "exactly at the limit is fine");
    }

    @Test
    void aHeaderThatUnderstatesItsSizeIsStillBounded() throws IOException {
        Path lz4 = zeros(4 << 20, true);
        byte[] b = Files.readAllBytes(lz4);
        declare(b, 100); // claims 100 bytes: passes the header check
        Files.write(lz4, b);
        Path out = dir.resolve("out.img");
        IOException e = assertThrows(IOException.class, () -> Lz4.decompress(lz4, out, 1 << 20, Long.MAX_VALUE));
        assertEquals(lz4 + " expands past jvmm's cap of 1048576 bytes; refusing it (a decompression bomb?)", e.getMessage());
        assertFalse(Files.exists(out));
    }
}
