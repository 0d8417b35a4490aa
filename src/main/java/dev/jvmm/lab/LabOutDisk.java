package dev.jvmm.lab;

import dev.jvmm.images.CachePrune;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The small disk on which L1 hands the inner JVM's class-data archive back to the host (L1 has no
 * other way out but its console), and the host's side of it: reading the archive off the disk
 * into the lab's cache, and keeping that cache to the archives of the last few jars (each build
 * of jvmm makes a new one, 10–25 MB; without a bound a CI cache would grow by one per commit).
 */
final class LabOutDisk {
    /** Where the archive travels: a decimal size in sector 0, the bytes from 1 MiB. */
    static final long ARCHIVE_OFFSET = 1 << 20;
    static final long BYTES = 256L << 20;
    /** Archives kept in the cache: the newest few, so switching between recent builds stays cheap. */
    static final int ARCHIVES_KEPT = 4;

    private LabOutDisk() {}

    /** Makes {@code disk} an empty sparse disk of {@link #BYTES}. */
    static void clear(Path disk) throws IOException {
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(ByteBuffer.allocate(1), BYTES - 1);
        }
    }

    /**
     * Takes the class-data archive L1 wrote to {@code disk}, if it wrote one, as {@code archive}
     * (written whole and renamed, so a cut leaves no half archive), then prunes the cache.
     */
    static void keepArchive(Path disk, Path archive, PrintStream log) {
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(512);
            ch.read(head, 0);
            String size = new String(head.array(), StandardCharsets.US_ASCII).trim().replace("\0", "");
            if (!size.matches("\\d{1,10}")) {
                return; // this run trained no archive
            }
            long n = Long.parseLong(size);
            if (n <= 0 || ARCHIVE_OFFSET + n > BYTES) {
                return;
            }
            Path tmp = Files.createTempFile(archive.getParent(), "app", ".partial");
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                long done = 0;
                while (done < n) {
                    done += ch.transferTo(ARCHIVE_OFFSET + done, n - done, out);
                }
            }
            Files.move(tmp, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            prune(archive.getParent(), ARCHIVES_KEPT);
        } catch (IOException e) {
            log.println("jvmm: lab: could not keep the class-data archive (" + e.getMessage() + "); the next run trains again");
        }
    }

    /** Deletes all but the {@code kept} newest archives ({@code app-*.jsa}) in {@code dir}; returns how many went. */
    static int prune(Path dir, int kept) throws IOException {
        return CachePrune.keepNewest(dir, "app-*.jsa", kept);
    }
}
