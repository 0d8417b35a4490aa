package dev.jvmm.images;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Keeps each kind of generated file in jvmm's cache to its newest few. Every jvmm build makes a
 * new class-data archive (10–25 MB), every change to L1's init script, JDK or busybox a new L1
 * base initramfs (54 MB for arm64, 80–96 MB for x86), and every bzImage booted its unpacked
 * kernel (11.5 MB for the project's): without a bound a developer's or CI's cache grows with each
 * of them. Pruning runs when a new one is made.
 */
public final class CachePrune {
    private CachePrune() {}

    /**
     * Deletes all but the {@code kept} newest files (by modification time) in {@code dir} whose
     * names match {@code glob}; returns how many went. A file deleted meanwhile counts as oldest.
     */
    public static int keepNewest(Path dir, String glob, int kept) throws IOException {
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
