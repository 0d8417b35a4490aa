package dev.jvmm.lab;

import dev.jvmm.images.CachePrune;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lab cache keeps the newest base archives of each architecture, and nothing else is touched. */
class CachePruneTest {
    @TempDir
    Path dir;

    private Path file(String name, long seconds) throws Exception {
        Path p = Files.writeString(dir.resolve(name), name);
        Files.setLastModifiedTime(p, FileTime.fromMillis(seconds * 1000));
        return p;
    }

    @Test
    void eachArchitectureKeepsItsNewestBaseArchives() throws Exception {
        Path x1 = file("l1-base-074c70d9de6c80e4.cpio", 100);
        Path x2 = file("l1-base-8581701401951cda.cpio", 300);
        Path x3 = file("l1-base-973641e4983907ab.cpio", 200);
        Path a1 = file("l1-base-aarch64-024c88509781fb46.cpio", 50);
        Path a2 = file("l1-base-aarch64-1c9facde40769bbc.cpio", 400);
        Path a3 = file("l1-base-aarch64-294a75ff93c2b53a.cpio", 500);
        Path tmp = file("l1-base1234.tmp", 10); // another run's archive being written
        Path app = file("app-3a2712c728696c2f.jsa", 1);

        assertEquals(1, CachePrune.keepNewest(dir, Lab.BASE_ARCHIVES, Lab.BASE_ARCHIVES_KEPT));
        assertTrue(Files.exists(x2) && Files.exists(x3) && !Files.exists(x1), "x86: the newest two stay");
        assertTrue(Files.exists(a1) && Files.exists(a2) && Files.exists(a3), "the x86 pattern leaves arm64's alone");

        assertEquals(1, CachePrune.keepNewest(dir, Arm64LabPieces.BASE_ARCHIVES, Lab.BASE_ARCHIVES_KEPT));
        assertTrue(Files.exists(a2) && Files.exists(a3) && !Files.exists(a1), "arm64: the newest two stay");
        assertTrue(Files.exists(tmp) && Files.exists(app) && Files.exists(x2) && Files.exists(x3));
        assertEquals(0, CachePrune.keepNewest(dir, Lab.BASE_ARCHIVES, Lab.BASE_ARCHIVES_KEPT));
    }
}
