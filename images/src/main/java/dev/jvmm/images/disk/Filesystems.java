package dev.jvmm.images.disk;

import dev.jvmm.images.HostTools;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * File system images made with Debian's tools, reproducibly: erofs with a fixed timestamp and
 * UUID; ext4 with a fixed UUID, hash seed and clock, and the inode times that mke2fs copies
 * from the staging tree (ctime, atime) reset afterwards with debugfs.
 */
public final class Filesystems {
    /** 2000-01-01T00:00:00Z: every timestamp in an image. (mke2fs ignores E2FSPROGS_FAKE_TIME=0.) */
    public static final long EPOCH = 946684800L;

    private Filesystems() {}

    static void fixTreeTimes(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.toList()) {
                if (!Files.isSymbolicLink(p)) {
                    Files.setLastModifiedTime(p, FileTime.fromMillis(EPOCH * 1000));
                }
            }
        }
    }

    /** erofs image of {@code dir}; its size is a whole number of 4 KiB blocks. */
    public static void erofs(Path dir, Path out, String uuid) throws IOException, InterruptedException {
        fixTreeTimes(dir);
        Files.deleteIfExists(out);
        HostTools.run(null, Map.of(), "mkfs.erofs", "--quiet", "-T" + EPOCH, "-U" + uuid, "--all-root", out.toString(),
                dir.toString());
    }

    /** ext4 of {@code bytes} holding {@code dir} (or empty when null); no journal when {@code journal} is false. */
    public static void ext4(Path dir, Path out, long bytes, String label, String uuid, boolean journal)
            throws IOException, InterruptedException {
        Files.deleteIfExists(out);
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.truncate(bytes);
            ch.write(ByteBuffer.allocate(1), bytes - 1);
        }
        List<String> argv = new ArrayList<>(List.of("mkfs.ext4", "-q", "-F", "-b", "4096", "-L", label, "-U", uuid,
                "-E", "hash_seed=" + uuid + ",root_owner=0:0,nodiscard", "-O", journal ? "has_journal" : "^has_journal"));
        if (dir != null) {
            fixTreeTimes(dir);
            argv.addAll(List.of("-d", dir.toString()));
        }
        argv.add(out.toString());
        HostTools.run(null, Map.of("E2FSPROGS_FAKE_TIME", Long.toString(EPOCH)), argv.toArray(new String[0]));
        // mke2fs copies ctime and atime from the staging tree; pin them.
        StringBuilder cmds = new StringBuilder();
        List<String> paths = new ArrayList<>(List.of("/", "/lost+found"));
        if (dir != null) {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted().toList()) {
                    if (!p.equals(dir)) {
                        paths.add("/" + dir.relativize(p));
                    }
                }
            }
        }
        for (String p : paths) {
            for (String field : List.of("ctime", "atime", "crtime")) {
                cmds.append("sif \"").append(p).append("\" ").append(field).append(' ').append(EPOCH).append('\n');
            }
        }
        Path script = Files.createTempFile("jvmm-debugfs", ".cmds");
        try {
            Files.writeString(script, cmds.toString());
            HostTools.run(null, Map.of("E2FSPROGS_FAKE_TIME", Long.toString(EPOCH)), "debugfs", "-w", "-f", script.toString(),
                    out.toString());
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /** Text files read back from an image (grub.cfg) are small; a larger one is not one of ours. */
    static final long MAX_TEXT_FILE = 1 << 20;
}
