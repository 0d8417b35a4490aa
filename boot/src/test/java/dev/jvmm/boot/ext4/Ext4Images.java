package dev.jvmm.boot.ext4;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test images made by the real e2fsprogs (mke2fs -d from a staged tree, debugfs for edits), so
 * the reader is checked against what Debian's tools write rather than against itself.
 */
final class Ext4Images {
    static final int MANY = 3000;
    static final int DEEP = 40;
    static final long MIB = 1 << 20;

    private Ext4Images() {}

    static boolean haveTools() {
        return Files.isExecutable(Path.of("/usr/sbin/mke2fs")) && Files.isExecutable(Path.of("/usr/sbin/debugfs"));
    }

    static String run(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", argv) + " failed: " + out);
        }
        return out;
    }

    /** mke2fs -q -F args... [-d tree] image, on a fresh sparse file of the given size. */
    static Path mkfs(Path image, long bytes, Path tree, String... args) throws IOException, InterruptedException {
        Files.deleteIfExists(image);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(bytes);
        }
        List<String> argv = new ArrayList<>(List.of("/usr/sbin/mke2fs", "-q", "-F"));
        argv.addAll(Arrays.asList(args));
        if (tree != null) {
            argv.addAll(List.of("-d", tree.toString()));
        }
        argv.add(image.toString());
        run(argv.toArray(new String[0]));
        return image;
    }

    static String debugfs(Path image, String request) throws IOException, InterruptedException {
        return run("/usr/sbin/debugfs", "-R", request, image.toString());
    }

    /** The inode number debugfs reports for path. */
    static long inodeNumber(Path image, String path) throws IOException, InterruptedException {
        Matcher m = Pattern.compile("Inode: (\\d+)").matcher(debugfs(image, "stat " + path));
        if (!m.find()) {
            throw new AssertionError("debugfs has no inode for " + path);
        }
        return Long.parseLong(m.group(1));
    }

    /** Byte offset of path's inode in the image, from debugfs imap. */
    static long inodeOffset(Path image, String path, int blockSize) throws IOException, InterruptedException {
        String out = debugfs(image, "imap " + path);
        Matcher m = Pattern.compile("located at block (\\d+), offset 0x([0-9a-f]+)").matcher(out);
        if (!m.find()) {
            throw new AssertionError("debugfs imap " + path + ": " + out);
        }
        return Long.parseLong(m.group(1)) * blockSize + Long.parseLong(m.group(2), 16);
    }

    /** Data blocks of path, from debugfs blocks. */
    static long[] blocks(Path image, String path) throws IOException, InterruptedException {
        String list = debugfs(image, "blocks " + path).replaceAll("(?s)^debugfs [^\\n]*\\n", "").trim();
        return list.isEmpty() ? new long[0] : Pattern.compile("\\s+").splitAsStream(list).mapToLong(Long::parseLong).toArray();
    }

    /** Runs a debugfs script read-write (rm, write, sif ...). */
    static void debugfsWrite(Path image, Path dir, String... commands) throws IOException, InterruptedException {
        Path script = dir.resolve("debugfs.cmds");
        Files.writeString(script, String.join("\n", commands) + "\n");
        run("/usr/sbin/debugfs", "-w", "-f", script.toString(), image.toString());
    }

    static Ext4 open(Path image) throws IOException, Ext4Exception {
        FileChannel ch = FileChannel.open(image, StandardOpenOption.READ);
        return Ext4.open(ch, 0, ch.size());
    }

    static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /**
     * A file of length bytes holding `chunk` random bytes every `period` bytes, holes between,
     * and data in its last chunk: mke2fs 1.47.0 -d with inline_data drops a trailing hole from
     * i_size, which would make the image disagree with the staged file.
     */
    static void sparse(Path f, long length, int period, int chunk, long seed) throws IOException {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            Random rnd = new Random(seed);
            byte[] b = new byte[chunk];
            for (long at = 0; at < length; at += period) {
                rnd.nextBytes(b);
                r.seek(at);
                r.write(b, 0, (int) Math.min(chunk, length - at));
            }
            rnd.nextBytes(b);
            r.seek(length - chunk);
            r.write(b);
        }
    }

    static String deepPath(int levels) {
        StringBuilder s = new StringBuilder("deep");
        for (int i = 1; i <= levels; i++) {
            s.append(String.format("/l%02d", i));
        }
        return s.toString();
    }

    /**
     * The staged tree: many small files in one directory (an htree), a 40-level path, sizes
     * around block and inline limits, a sparse 20 MiB file, a file of 2048 extents, links of
     * every kind. full=false leaves out the many files and the 2048-extent file (64 KiB blocks).
     */
    static Path stage(Path dir, boolean full, boolean hugeSparse) throws IOException {
        Files.createDirectories(dir.resolve("many"));
        int many = full ? MANY : 200;
        for (int i = 0; i < many; i++) {
            Files.writeString(dir.resolve(String.format("many/f%04d", i)), ("file " + i + "\n").repeat(i % 37));
        }
        Path deep = Files.createDirectories(dir.resolve(deepPath(full ? DEEP : 10)));
        Files.writeString(deep.resolve("leaf.txt"), "at the bottom\n");
        Files.createDirectories(dir.resolve("sizes"));
        for (int n : new int[] {0, 1, 59, 60, 61, 100, 1023, 1024, 1025, 4095, 4096, 4097, 65537}) {
            Files.write(dir.resolve("sizes/s" + n), random(n, n));
        }
        Files.createDirectories(dir.resolve("empty-dir"));
        Files.writeString(dir.resolve("sizes/unicode-é-日本.txt"), "unicode name\n");
        sparse(dir.resolve("big"), 20 * MIB, 256 << 10, 100 << 10, 1);
        if (full) {
            sparse(dir.resolve("holes"), 16 * MIB, 8192, 4096, 2);
        }
        if (hugeSparse) {
            sparse(dir.resolve("huge-sparse"), 66 * MIB, (int) (10 * MIB), 8192, 3);
        }
        Path links = Files.createDirectories(dir.resolve("links"));
        Files.createSymbolicLink(links.resolve("abs"), Path.of("/many/f0001"));
        Files.createSymbolicLink(links.resolve("rel"), Path.of("../many/f0002"));
        Files.createSymbolicLink(links.resolve("slow"), Path.of("../" + deepPath(full ? DEEP : 10) + "/leaf.txt"));
        Files.createSymbolicLink(links.resolve("dir"), Path.of("../deep"));
        Files.createSymbolicLink(links.resolve("loop1"), Path.of("loop2"));
        Files.createSymbolicLink(links.resolve("loop2"), Path.of("loop1"));
        Files.createSymbolicLink(links.resolve("self"), Path.of("self"));
        Files.createSymbolicLink(links.resolve("dangling"), Path.of("/no/such/file"));
        for (int i = 0; i < 8; i++) {
            Files.createSymbolicLink(links.resolve("h" + i), Path.of("h" + (i + 1)));
        }
        Files.createSymbolicLink(links.resolve("h8"), Path.of("/sizes/s61"));
        return dir;
    }
}
