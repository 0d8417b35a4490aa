package dev.jvmm.cli;

import dev.jvmm.cli.ImageRepairCliTest.Result;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.jvmm.cli.ImageRepairCliTest.assertOneLine;
import static dev.jvmm.cli.ImageRepairCliTest.jvmm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `jvmm image` commands that write refuse an image another process holds (a running VM, or here
 * the flock tool in its place): one line naming the holder, status 1, the image unchanged.
 * Commands that only read still work.
 */
class ImageLockCliTest {
    @TempDir
    Path tmp;
    private Process holder;

    @AfterEach
    void release() throws InterruptedException {
        if (holder != null) {
            holder.descendants().forEach(ProcessHandle::destroy);
            holder.destroy();
            holder.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void writingCommandsRefuseAHeldImage() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/flock")), "needs the util-linux flock tool");
        ImageRepairCliTest disks = new ImageRepairCliTest();
        disks.tmp = tmp;
        Path f = disks.cosDisk();
        String file = f.toString();
        holder = new ProcessBuilder("/usr/bin/flock", "-o", "-s", file, "-c", "echo locked; exec sleep 60")
                .redirectErrorStream(true).start();
        assertEquals("locked", new BufferedReader(new InputStreamReader(holder.getInputStream())).readLine());
        byte[] before = Files.readAllBytes(f);
        String line = "jvmm: " + file + " is in use by another process (pid " + holder.pid() + ")";
        for (List<String> cmd : List.of(List.of("mark-successful", file), List.of("rollback", file),
                List.of("cancel-upgrade", file), List.of("repair", file), List.of("upgrade", file, "--from", file))) {
            List<String> args = new ArrayList<>(List.of("image"));
            args.addAll(cmd);
            Result r = jvmm(args.toArray(String[]::new));
            assertEquals(1, r.status(), cmd + ": " + r.err());
            assertOneLine(r, line);
            assertArrayEquals(before, Files.readAllBytes(f), cmd + " wrote nothing");
        }
        Result status = jvmm("image", "status", file);
        assertEquals(0, status.status(), status.err());
        assertTrue(status.out().contains("KERN-A"), status.out());

        holder.descendants().forEach(ProcessHandle::destroy);
        holder.destroy();
        holder.waitFor();
        assertEquals(0, jvmm("image", "mark-successful", file).status(), "free again once the holder exits");
    }
}
