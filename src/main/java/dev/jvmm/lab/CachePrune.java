package dev.jvmm.lab;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Keeps each kind of generated lab file in the cache to its newest few. Every jvmm build makes a
 * new class-data archive (10–25 MB) and, on arm64, a new L1 base initramfs (54 MB; its key
 * includes the jar's native library), and a new JDK or busybox a new x86 one (80–96 MB): without
 * a bound a developer's or CI's cache grows by one of each per commit.
 */
final class CachePrune {
    private CachePrune() {}

    /**
     * Deletes all but the {@code kept} newest files (by modification time) in {@code dir} whose
     * names match {@code glob}; returns how many went. A file deleted meanwhile counts as oldest.
     */
    static int keepNewest(Path dir, String glob, int kept) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            for (Path p : ds) {
                files.add(p);
            }
        }
        files.sort(Comparator.comparing(CachePrune::modified).reversed());
        int deleted = 0;
        for (int i = kept; i < files.size(); i++) {
            if (Files.deleteIfExists(files.get(i))) {
                deleted++;
            }
        }
        return deleted;
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }
}
