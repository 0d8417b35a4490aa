package dev.jvmm.boot.ext4;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compares what the reader sees with the staged tree the image was made from, entry by entry. */
final class TreeCheck {
    /** What a comparison covered, so tests can insist it covered something. */
    record Counts(int files, int dirs, int links, long bytes) {}

    private TreeCheck() {}

    static Counts compare(Ext4 fs, Path stage) throws IOException, Ext4Exception {
        int files = 0;
        int dirs = 0;
        int links = 0;
        long bytes = 0;
        List<Path> all;
        try (Stream<Path> walk = Files.walk(stage)) {
            all = walk.toList();
        }
        for (Path p : all) {
            String path = "/" + stage.relativize(p).toString().replace('\\', '/');
            if (Files.isSymbolicLink(p)) {
                assertEquals(Files.readSymbolicLink(p).toString(), fs.readLink(path), path);
                links++;
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                List<String> want;
                try (Stream<Path> s = Files.list(p)) {
                    // mke2fs adds lost+found to the root
                    Stream<String> names = s.map(c -> c.getFileName().toString());
                    want = (p.equals(stage) ? Stream.concat(names, Stream.of("lost+found")) : names).sorted().toList();
                }
                assertEquals(want, fs.list(path), path);
                assertTrue(fs.exists(path), path);
                dirs++;
            } else {
                byte[] want = Files.readAllBytes(p);
                byte[] got = fs.readFile(path, 128 * Ext4Images.MIB);
                assertArrayEquals(want, got, path);
                files++;
                bytes += got.length;
            }
        }
        return new Counts(files, dirs, links, bytes);
    }

    /** The staged links: targets followed (relative, absolute, slow, through a directory), loops refused. */
    static void links(Ext4 fs, Path stage, boolean full) throws IOException, Ext4Exception {
        assertArrayEquals(Files.readAllBytes(stage.resolve("many/f0001")), fs.readFile("/links/abs", 1 << 20));
        assertArrayEquals(Files.readAllBytes(stage.resolve("many/f0002")), fs.readFile("/links/rel", 1 << 20));
        assertArrayEquals("at the bottom\n".getBytes(), fs.readFile("/links/slow", 1 << 20));
        String deepTail = Ext4Images.deepPath(full ? Ext4Images.DEEP : 10).substring("deep".length());
        assertArrayEquals("at the bottom\n".getBytes(), fs.readFile("/links/dir" + deepTail + "/leaf.txt", 1 << 20));
        assertEquals(List.of("l01"), fs.list("/links/dir"));
        assertEquals(List.of("l01"), fs.list("/links/dir/l01/.."));
        assertArrayEquals(Files.readAllBytes(stage.resolve("sizes/s61")), fs.readFile("/links/h1", 1 << 20));
        for (String loop : List.of("/links/h0", "/links/loop1", "/links/self", "/links/self/x")) {
            Ext4Exception e = assertThrows(Ext4Exception.class, () -> fs.readFile(loop, 1 << 20), loop);
            assertTrue(e.getMessage().contains("too many levels of symbolic links"), e.getMessage());
        }
        assertFalse(fs.exists("/links/dangling"));
        assertFalse(fs.exists("/many/nope"));
        assertFalse(fs.exists("/many/f0001/below-a-file"));
        Ext4Exception e = assertThrows(Ext4Exception.class, () -> fs.readFile("/links/dangling", 1 << 20));
        assertTrue(e.getMessage().contains("no such file or directory"), e.getMessage());
    }
}
