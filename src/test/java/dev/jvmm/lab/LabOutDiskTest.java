package dev.jvmm.lab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The out disk's archive reaches the cache whole or not at all, and the cache keeps only the newest archives. */
class LabOutDiskTest {
    @TempDir
    Path dir;

    private Path disk(String sizeWord, byte[] bytes) throws Exception {
        Path disk = Files.createFile(dir.resolve("out.img"));
        LabOutDisk.clear(disk);
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap((sizeWord + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            ch.write(ByteBuffer.wrap(bytes), LabOutDisk.ARCHIVE_OFFSET);
        }
        return disk;
    }

    @Test
    void theArchiveOnTheDiskIsKeptWhole() throws Exception {
        byte[] bytes = new byte[3 * 1024 * 1024 + 17];
        Arrays.fill(bytes, (byte) 0x5a);
        bytes[bytes.length - 1] = 1;
        Path disk = disk(Integer.toString(bytes.length), bytes);
        assertEquals(LabOutDisk.BYTES, Files.size(disk));
        Path cache = Files.createDirectories(dir.resolve("cache"));
        LabOutDisk.keepArchive(disk, cache.resolve("app-1.jsa"), new PrintStream(new ByteArrayOutputStream()));
        assertArrayEquals(bytes, Files.readAllBytes(cache.resolve("app-1.jsa")));
    }

    @Test
    void aDiskWithNoArchiveOrABadSizeLeavesNothing() throws Exception {
        Path cache = Files.createDirectories(dir.resolve("cache"));
        for (String word : new String[] {"", "abc", "-5", "0", Long.toString(LabOutDisk.BYTES)}) {
            Path disk = disk(word, new byte[16]);
            LabOutDisk.keepArchive(disk, cache.resolve("app-1.jsa"), new PrintStream(new ByteArrayOutputStream()));
            assertFalse(Files.exists(cache.resolve("app-1.jsa")), "size word '" + word + "'");
            Files.delete(disk);
        }
        try (var files = Files.list(cache)) {
            assertEquals(0, files.count(), "no partial file left behind");
        }
    }

    @Test
    void theCacheKeepsTheNewestArchivesOnly() throws Exception {
        for (int i = 0; i < 7; i++) {
            Path a = Files.writeString(dir.resolve("app-" + i + ".jsa"), "x");
            Files.setLastModifiedTime(a, FileTime.fromMillis(1_000_000L * (i + 1)));
        }
        Path other = Files.writeString(dir.resolve("base-1.jsa"), "not an app archive");
        assertEquals(3, LabOutDisk.prune(dir, 4));
        for (int i = 0; i < 7; i++) {
            assertEquals(i >= 3, Files.exists(dir.resolve("app-" + i + ".jsa")), "app-" + i);
        }
        assertTrue(Files.exists(other));
        assertEquals(0, LabOutDisk.prune(dir, 4));
    }
}
