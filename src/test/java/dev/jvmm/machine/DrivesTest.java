package dev.jvmm.machine;

import dev.jvmm.images.disk.Lz4;
import dev.jvmm.vmm.sys.DiskLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The drive cache and scratch copies of compressed drives: per-run scratch copies (a second VM
 * never overwrites the first one's disk), a cache file trusted only at its recorded size, old
 * scratch copies removed unless a VM holds them, and a drive another process holds refused.
 */
class DrivesTest {
    @TempDir
    Path dir;
    private String cacheBefore;
    private Process holder;
    private byte[] content;
    private Path lz4;

    @BeforeEach
    void cache() throws IOException {
        cacheBefore = System.getProperty("jvmm.cache");
        System.setProperty("jvmm.cache", dir.resolve("cache").toString());
        content = new byte[1 << 20];
        new Random(5).nextBytes(content);
        Path plain = Files.write(dir.resolve("disk.img"), content);
        lz4 = dir.resolve("disk.img.lz4");
        Lz4.compress(plain, lz4);
    }

    @AfterEach
    void restore() throws InterruptedException {
        if (cacheBefore == null) {
            System.clearProperty("jvmm.cache");
        } else {
            System.setProperty("jvmm.cache", cacheBefore);
        }
        if (holder != null) {
            holder.descendants().forEach(ProcessHandle::destroy);
            holder.destroy();
            holder.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private DeviceSpecs.Drive resolve(String opts) throws DeviceSetupException {
        return Drives.resolve(DeviceSpecs.Drive.parse("path=" + lz4 + opts), System.err);
    }

    private Process hold(Path file) throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/flock")), "needs the util-linux flock tool");
        Process p = new ProcessBuilder("/usr/bin/flock", "-o", "-x", file.toString(), "-c", "echo locked; exec sleep 60")
                .redirectErrorStream(true).start();
        assertEquals("locked", new BufferedReader(new InputStreamReader(p.getInputStream())).readLine());
        return p;
    }

    @Test
    void eachRunWritesItsOwnScratchCopyAndAnotherRunLeavesItAlone() throws Exception {
        Path first = resolve(",rw").path();
        try (FileChannel ch = FileChannel.open(first, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("guest write".getBytes()), 0); // acknowledged to the first VM's guest
        }
        Path second = resolve(",rw").path();
        assertNotEquals(first, second, "a concurrent or later VM gets its own copy");
        assertEquals("guest write", new String(Files.readAllBytes(first), 0, 11), "the first VM's write survives");
        assertArrayEquals(content, Files.readAllBytes(second));
        assertTrue(first.getFileName().toString().contains("-" + ProcessHandle.current().pid() + "-"), first.toString());
        assertEquals(dir.resolve("cache/drives/scratch"), first.getParent());
    }

    @Test
    void aScratchCopyThatCannotFitIsRefusedBeforeCopying() throws Exception {
        Path plain = resolve("").path();
        Path scratchDir = Files.createDirectories(dir.resolve("cache/drives/scratch"));
        IOException e = assertThrows(IOException.class, () -> Drives.scratchCopy(plain, scratchDir, "0123456789abcdef", 4096));
        assertEquals("a read-write copy needs " + content.length + " bytes but " + scratchDir + " has only 4096 free", e.getMessage());
        try (var left = Files.list(scratchDir)) {
            assertEquals(0, left.count(), "nothing half-copied");
        }
    }

    @Test
    void oldScratchCopiesGoUnlessAVmHoldsThem() throws Exception {
        Path scratchDir = Files.createDirectories(dir.resolve("cache/drives/scratch"));
        Path oldFree = Files.write(scratchDir.resolve("0123456789abcdef-1-1.img"), new byte[512]);
        Path oldHeld = Files.write(scratchDir.resolve("0123456789abcdef-2-1.img"), new byte[512]);
        Path recent = Files.write(scratchDir.resolve("0123456789abcdef-3-1.img"), new byte[512]);
        FileTime old = FileTime.from(Instant.now().minus(Drives.SCRATCH_KEEP).minusSeconds(60));
        Files.setLastModifiedTime(oldFree, old);
        Files.setLastModifiedTime(oldHeld, old);
        holder = hold(oldHeld); // a VM in another process still runs on it
        resolve(",rw");
        assertFalse(Files.exists(oldFree));
        assertTrue(Files.exists(oldHeld));
        assertTrue(Files.exists(recent), "kept a while after its run, so its path can be read back");
        // Two jvmm pruning at once: a copy the other removed between listing and probing is skipped, not an error.
        Path gone = scratchDir.resolve("0123456789abcdef-4-1.img");
        assertFalse(Drives.lastWrittenBefore(gone, Instant.now()));
        assertThrows(NoSuchFileException.class, () -> DiskLock.acquire(gone, true));
    }

    @Test
    void aCacheFileIsTrustedOnlyAtItsRecordedSize() throws Exception {
        Path cached = resolve("").path();
        assertTrue(Drives.verified(cached));
        assertEquals(Long.toString(content.length), Files.readString(Drives.sizeFile(cached)));
        // As a crash before the data reached the disk would leave it: the name, not the bytes.
        try (FileChannel ch = FileChannel.open(cached, StandardOpenOption.WRITE)) {
            ch.truncate(4096);
        }
        assertArrayEquals(content, Files.readAllBytes(resolve("").path()), "decompressed again, not booted short");
        Files.delete(Drives.sizeFile(cached)); // renamed into place, size not yet recorded
        FileTime before = Files.getLastModifiedTime(cached);
        Files.setLastModifiedTime(cached, FileTime.from(before.toInstant().minusSeconds(10)));
        resolve("");
        assertTrue(Drives.verified(cached));
        assertNotEquals(before.toInstant().minusSeconds(10), Files.getLastModifiedTime(cached).toInstant(), "rewritten");
    }

    @Test
    void aDriveAnotherProcessHoldsIsRefusedAtDeviceSetup() throws Exception {
        Path disk = dir.resolve("disk.img");
        holder = hold(disk);
        DeviceSpecs.Devices devices = new DeviceSpecs.Devices(List.of(DeviceSpecs.Drive.parse("path=" + disk)), List.of(), null, false);
        DeviceSetupException e = assertThrows(DeviceSetupException.class,
                () -> VirtioSetup.open(devices, System.err));
        assertEquals("--drive " + disk + ": " + disk + " is in use by another process (pid " + holder.pid() + ")", e.getMessage());
    }

    private static boolean othersCanLock(Path file, boolean exclusive) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/flock", "-n", exclusive ? "-x" : "-s", file.toString(), "true").start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return p.exitValue() == 0;
    }

    @Test
    void aBootLocksItsHostFilesBeforeTheLabOrKvm() throws Exception {
        Path image = Files.write(dir.resolve("image.img"), new byte[4096]);
        Path ro = Files.write(dir.resolve("ro.img"), new byte[4096]);
        Path rw = Files.write(dir.resolve("rw.img"), new byte[4096]);
        DeviceSpecs.Devices devices = new DeviceSpecs.Devices(List.of(DeviceSpecs.Drive.parse("path=" + ro + ",ro"),
                DeviceSpecs.Drive.parse("path=" + rw)), List.of(), null, false);
        MachineConfig config = new MachineConfig(null, null, "", 256, 1, 0, false, true, devices, null,
                new ImageSpec(image, null, null, 1, null));
        try (Drives.Held held = Drives.lock(config)) {
            assertEquals(3, held.locks().size());
            assertFalse(othersCanLock(image, false), "in the lab QEMU's locks would not keep jvmm image off it");
            assertFalse(othersCanLock(rw, false));
            assertTrue(othersCanLock(ro, false));
            assertFalse(othersCanLock(ro, true));
        }
        assertTrue(othersCanLock(image, true) && othersCanLock(rw, true) && othersCanLock(ro, true), "released at the end");
        holder = hold(rw);
        DeviceSetupException e = assertThrows(DeviceSetupException.class, () -> Drives.lock(config));
        assertEquals("--drive " + rw + ": " + rw + " is in use by another process (pid " + holder.pid() + ")", e.getMessage());
        assertTrue(othersCanLock(image, true), "a refused boot keeps nothing locked");
    }

    @Test
    void anImageBootRefusesAnImageAnotherProcessHoldsBeforeAnyPass() throws Exception {
        Path disk = dir.resolve("disk.img");
        holder = hold(disk);
        MachineConfig config = new MachineConfig(null, null, "", 256, 1, 0, false, true, DeviceSpecs.Devices.DEFAULT, null,
                new ImageSpec(disk, null, null, 1, null));
        ImageBoot boot = new ImageBoot(config, new Timeline(), System.err);
        DeviceSetupException e = assertThrows(DeviceSetupException.class,
                () -> boot.run(InputStream.nullInputStream(), OutputStream.nullOutputStream()));
        assertEquals("image " + disk + " is in use by another process (pid " + holder.pid() + ")", e.getMessage());
        assertTrue(boot.passes().isEmpty(), "no firmware pass wrote to it");
    }
}
