package dev.jvmm.devices.virtio.blk;

import dev.jvmm.vmm.sys.DiskLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A drive file against other processes (the flock tool stands in for a second jvmm or an image
 * command), a flush after a failed fsync, and a real block device (a loop device) as the backend.
 */
class BlockFileTest {
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

    private Path file() throws IOException {
        return Files.write(dir.resolve("disk.img"), new byte[64 << 10]);
    }

    private static Process hold(Path file, boolean exclusive) throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/flock")), "needs the util-linux flock tool");
        Process p = new ProcessBuilder("/usr/bin/flock", "-o", exclusive ? "-x" : "-s", file.toString(),
                "-c", "echo locked; exec sleep 60").redirectErrorStream(true).start();
        assertEquals("locked", new BufferedReader(new InputStreamReader(p.getInputStream())).readLine());
        return p;
    }

    private static boolean othersCanLock(Path file, boolean exclusive) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/flock", "-n", exclusive ? "-x" : "-s", file.toString(), "true").start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return p.exitValue() == 0;
    }

    @Test
    void aReadWriteDriveLocksOutOtherProcessesUntilClosed() throws Exception {
        Path f = file();
        try (BlockFile a = BlockFile.open(f, false); BlockFile b = BlockFile.open(f, false)) {
            // Two opens in one jvmm (firmware pass, device, agent marking) do not exclude each other...
            assertFalse(othersCanLock(f, false), "...but another process cannot even read-lock it");
            a.close();
            assertFalse(othersCanLock(f, false), "still held by the second open");
        }
        assertTrue(othersCanLock(f, true), "released at close");
    }

    @Test
    void aReadOnlyDriveSharesWithReadersOnly() throws Exception {
        Path f = file();
        try (BlockFile ro = BlockFile.open(f, true)) {
            assertTrue(othersCanLock(f, false));
            assertFalse(othersCanLock(f, true));
        }
    }

    @Test
    void aDriveAnotherProcessHoldsIsRefusedNamingIt() throws Exception {
        Path f = file();
        holder = hold(f, false);
        DiskLock.InUseException e = assertThrows(DiskLock.InUseException.class, () -> BlockFile.open(f, false));
        assertEquals(f + " is in use by another process (pid " + holder.pid() + ")", e.getMessage());
        BlockFile.open(f, true).close(); // readers share
        holder.descendants().forEach(ProcessHandle::destroy);
        holder.destroy();
        holder.waitFor();
        holder = hold(f, true);
        assertThrows(DiskLock.InUseException.class, () -> BlockFile.open(f, true));
    }

    @Test
    void onceAnFsyncFailsEveryLaterFlushFails() throws Exception {
        Path f = file();
        int[] calls = {0};
        try (BlockFile bf = BlockFile.open(f, false, ch -> {
            if (++calls[0] == 1) {
                throw new IOException("Input/output error");
            }
            ch.force(true);
        })) {
            assertThrows(IOException.class, bf::flush);
            // The kernel would now report success: the dirty pages were dropped and the error consumed.
            IOException again = assertThrows(IOException.class, bf::flush);
            assertTrue(again.getMessage().contains("an earlier flush"), again.getMessage());
            assertEquals(1, calls[0], "no fsync may be taken as proof after a failed one");
        }
    }

    @Test
    void aLoopDeviceIsADriveOfItsOwnSize() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/losetup")) && Files.exists(Path.of("/dev/loop-control"))
                && Files.isWritable(Path.of("/dev/loop-control")), "needs losetup and root (loop devices)");
        byte[] content = new byte[1 << 20];
        new Random(11).nextBytes(content);
        Path backing = Files.write(dir.resolve("backing.img"), content);
        Process p = new ProcessBuilder("/usr/sbin/losetup", "-f", "--show", backing.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        Assumptions.assumeTrue(p.waitFor() == 0 && out.startsWith("/dev/loop"), "losetup failed here: " + out);
        Path loop = Path.of(out);
        try {
            try (BlockFile bf = BlockFile.open(loop, false)) {
                assertEquals(content.length, bf.size(), "BLKGETSIZE64, not st_size (0 for a block device)");
                ByteBuffer got = ByteBuffer.allocate(4096);
                bf.read(got, content.length - 4096);
                assertArrayEquals(Arrays.copyOfRange(content, content.length - 4096, content.length), got.array());
                byte[] data = new byte[512];
                Arrays.fill(data, (byte) 0x5a);
                bf.write(ByteBuffer.wrap(data), 512);
                bf.writeZeroes(content.length - 512, 512, false);
                bf.flush();
                assertFalse(othersCanLock(loop, false), "a block device is locked like a file");
            }
        } finally {
            new ProcessBuilder("/usr/sbin/losetup", "-d", loop.toString()).start().waitFor();
        }
        byte[] after = Files.readAllBytes(backing);
        assertArrayEquals(Arrays.copyOfRange(after, 512, 1024), filled(512, (byte) 0x5a));
        assertArrayEquals(new byte[512], Arrays.copyOfRange(after, content.length - 512, content.length));
        assertArrayEquals(Arrays.copyOfRange(content, 1024, content.length - 512), Arrays.copyOfRange(after, 1024, content.length - 512));
    }

    private static byte[] filled(int n, byte b) {
        byte[] a = new byte[n];
        Arrays.fill(a, b);
        return a;
    }
}
