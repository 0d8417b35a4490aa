package dev.jvmm.vmm.sys;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Disk locks against a second process (the util-linux flock tool, which takes flock(2) locks as
 * another jvmm would), and within one process, where jvmm's own opens must share the lock.
 */
public class DiskLockTest {
    @TempDir
    Path dir;
    private Process holder;

    @AfterEach
    void stopHolder() throws InterruptedException {
        if (holder != null) {
            holder.descendants().forEach(ProcessHandle::destroy);
            holder.destroy();
            holder.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Starts {@code flock MODE FILE} holding the lock until killed; returns once it holds it. */
    public static Process holdWithFlockTool(Path file, boolean exclusive) throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/flock")), "needs the util-linux flock tool");
        Process p = new ProcessBuilder("/usr/bin/flock", "-o", exclusive ? "-x" : "-s", file.toString(),
                "-c", "echo locked; exec sleep 60").redirectErrorStream(true).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        assertEquals("locked", line);
        return p;
    }

    /** Whether another process could take the lock now, without waiting (flock -n). */
    public static boolean otherProcessCanLock(Path file, boolean exclusive) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/flock", "-n", exclusive ? "-x" : "-s", file.toString(), "true").start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return p.exitValue() == 0;
    }

    private Path file() throws IOException {
        return Files.write(dir.resolve("disk.img"), new byte[4096]);
    }

    @Test
    void anExclusiveHolderElsewhereRefusesBothModesAndIsNamed() throws Exception {
        Path f = file();
        holder = holdWithFlockTool(f, true);
        DiskLock.InUseException e = assertThrows(DiskLock.InUseException.class, () -> DiskLock.acquire(f, true));
        // flock(1) takes the lock itself, then runs the command in a child: /proc/locks names the flock process.
        assertTrue(e.getMessage().contains("pid " + holder.pid()), e.getMessage());
        assertTrue(e.getMessage().startsWith(f + " is in use by another process"), e.getMessage());
        assertThrows(DiskLock.InUseException.class, () -> DiskLock.acquire(f, false));
        assertFalse(DiskLock.heldHere(f), "a refused lock leaves nothing held");
    }

    @Test
    void sharedHoldersElsewhereAllowReadersAndRefuseAWriter() throws Exception {
        Path f = file();
        holder = holdWithFlockTool(f, false);
        try (DiskLock reader = DiskLock.acquire(f, false)) {
            assertTrue(DiskLock.heldHere(f));
            assertThrows(DiskLock.InUseException.class, () -> DiskLock.acquire(f, true));
            assertTrue(DiskLock.heldHere(f), "a refused upgrade keeps the shared lock");
            assertFalse(otherProcessCanLock(f, true));
        }
        assertFalse(DiskLock.heldHere(f));
    }

    @Test
    void opensInOneProcessShareTheLockAndTheLastCloseReleasesIt() throws Exception {
        Path f = file();
        DiskLock first = DiskLock.acquire(f, false);
        DiskLock second = DiskLock.acquire(f, true); // upgrade: nobody else holds it
        DiskLock third = DiskLock.acquire(f, true);
        assertFalse(otherProcessCanLock(f, false), "exclusive against other processes");
        second.close();
        second.close(); // idempotent: one holder released once
        first.close();
        assertFalse(otherProcessCanLock(f, false), "one holder left");
        third.close();
        assertTrue(otherProcessCanLock(f, true), "released with the last holder");
    }

    @Test
    void anotherJvmmIsNamedAsSuch() throws Exception {
        Path f = file();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        holder = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                DiskLockHolder.class.getName(), f.toString()).redirectErrorStream(true).start();
        assertEquals("locked", new BufferedReader(new InputStreamReader(holder.getInputStream())).readLine());
        DiskLock.InUseException e = assertThrows(DiskLock.InUseException.class, () -> DiskLock.acquire(f, false));
        assertEquals(f + " is in use by another jvmm (pid " + holder.pid() + ")", e.getMessage());
    }

    @Test
    void procLocksNamesNoHolderForAnUnlockedFile() throws Exception {
        Path f = file();
        assertEquals(-1, DiskLock.holder(DiskLock.keyOf(f)));
        holder = holdWithFlockTool(f, false);
        assertEquals(holder.pid(), DiskLock.holder(DiskLock.keyOf(f)));
    }
}
