package dev.jvmm.cli;

import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.boot.gpt.Guid;
import dev.jvmm.images.disk.Layout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jvmm image on a disk with one damaged GPT copy: status reads it and says so, verify and the
 * A/B commands refuse it, untouched, and repair fixes it. The disk is a bare COS-layout GPT
 * (empty slots), so no image needs building.
 */
class ImageRepairCliTest {
    @TempDir
    Path tmp;

    static final long SECTORS = 8192;

    record Result(int status, String out, String err) {}

    static Result jvmm(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        try (PrintStream o = new PrintStream(out, true); PrintStream e = new PrintStream(err, true)) {
            System.setOut(o);
            System.setErr(e);
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(o, true));
            cl.setErr(new PrintWriter(e, true));
            int status = cl.execute(args);
            return new Result(status, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    Path cosDisk() throws Exception {
        long kernA = 1L << 48 | 1L << 56; // priority 1, successful
        Gpt g = Gpt.create(SECTORS, Guid.derive("cli-disk"), List.of(
                new GptPartition(1, Layout.LINUX_DATA, Guid.derive("s"), 2048, 2559, 0, "STATE"),
                new GptPartition(2, Layout.CROS_KERNEL, Guid.derive("ka"), 2560, 3071, kernA, "KERN-A"),
                new GptPartition(3, Layout.CROS_ROOTFS, Guid.derive("ra"), 3072, 4095, 0, "ROOT-A"),
                new GptPartition(4, Layout.CROS_KERNEL, Guid.derive("kb"), 4096, 4607, 0, "KERN-B"),
                new GptPartition(5, Layout.CROS_ROOTFS, Guid.derive("rb"), 4608, 5631, 0, "ROOT-B")));
        Path f = tmp.resolve("cos.img");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(1), SECTORS * Gpt.SECTOR - 1);
            g.write(ch);
        }
        return f;
    }

    static void damage(Path f, long offset) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0x7f}), offset);
        }
    }

    static void assertOneLine(Result r, String mention) {
        assertTrue(r.err().contains(mention), "'" + r.err() + "' should mention '" + mention + "'");
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void oneDamagedCopyIsReadRefusedForChangesAndRepaired() throws Exception {
        Path f = cosDisk();
        String file = f.toString();
        damage(f, Gpt.SECTOR + 40); // primary header, CRC left stale
        byte[] damaged = Files.readAllBytes(f);

        Result status = jvmm("image", "status", file);
        assertEquals(0, status.status(), status.err());
        assertOneLine(status, "jvmm: warning: primary GPT header CRC mismatch (damaged header); using the backup copy; "
                + "'jvmm image repair " + file + "' fixes it");
        assertTrue(status.out().contains("KERN-A"), status.out());
        Result json = jvmm("image", "status", "--json", file);
        assertTrue(json.out().contains("\"gptState\" : \"BACKUP_ONLY\""), json.out());

        Result verify = jvmm("image", "verify", file);
        assertEquals(1, verify.status(), verify.err());
        assertOneLine(verify, "jvmm: GPT: primary GPT header CRC mismatch (damaged header); using the backup copy; "
                + "run 'jvmm image repair " + file + "'");

        for (String cmd : List.of("mark-successful", "rollback", "cancel-upgrade")) {
            Result r = jvmm("image", cmd, file);
            assertEquals(1, r.status(), cmd + ": " + r.err());
            assertOneLine(r, "run 'jvmm image repair " + file + "' before changing this image");
            assertArrayEquals(damaged, Files.readAllBytes(f), cmd + " wrote nothing");
        }
        Result upgrade = jvmm("image", "upgrade", file, "--from", file);
        assertEquals(1, upgrade.status(), upgrade.err());
        assertTrue(upgrade.err().contains("run 'jvmm image repair " + file + "' before changing this image"), upgrade.err());
        assertArrayEquals(damaged, Files.readAllBytes(f), "upgrade wrote nothing");

        Result repair = jvmm("image", "repair", file);
        assertEquals(0, repair.status(), repair.err());
        assertEquals("primary GPT rewritten from the backup copy", repair.out().strip());
        Result again = jvmm("image", "repair", file);
        assertEquals("both GPT copies are valid and agree; nothing to do", again.out().strip());
        Result ok = jvmm("image", "verify", file);
        assertEquals(0, ok.status(), ok.err());
        assertTrue(ok.out().startsWith("GPT: primary and backup headers and entries valid and identical"), ok.out());
        assertEquals(0, jvmm("image", "mark-successful", file).status());
    }

    @Test
    void repairFailsWhenNeitherCopyIsValid() throws Exception {
        Path f = cosDisk();
        damage(f, Gpt.SECTOR + 40);
        damage(f, (SECTORS - 1) * Gpt.SECTOR + 40);
        Result r = jvmm("image", "repair", f.toString());
        assertEquals(1, r.status(), r.err());
        assertOneLine(r, "jvmm: no valid GPT: primary GPT header CRC mismatch (damaged header); "
                + "backup GPT header CRC mismatch (damaged header)");
    }
}
