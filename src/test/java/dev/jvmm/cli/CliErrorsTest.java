package dev.jvmm.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad arguments give exit status 2 and one line naming the problem, never a stack trace. */
class CliErrorsTest {
    @TempDir
    Path tmp;

    record Result(int status, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        PrintStream oldErr = System.err;
        try (PrintStream err = new PrintStream(errBytes, true)) {
            System.setErr(err);
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            cl.setOut(new PrintWriter(new ByteArrayOutputStream(), true));
            int status = cl.execute(args);
            return new Result(status, errBytes.toString());
        } finally {
            System.setErr(oldErr);
        }
    }

    static void assertUsageError(Result r, String mention) {
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains(mention), "'" + r.err() + "' should mention '" + mention + "'");
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void unknownOptionAndBadNumbers() {
        assertUsageError(run("boot", "--frobnicate"), "Unknown option");
        assertUsageError(run("boot", "--mem", "lots"), "--mem");
        assertUsageError(run("boot", "--lab", "sometimes"), "--lab");
    }

    @Test
    void missingOrInvalidKernel() throws Exception {
        assertUsageError(run("boot", "--kernel", tmp.resolve("nope").toString(), "--lab=never"), "does not exist");
        Path junk = tmp.resolve("junk");
        Files.write(junk, new byte[8192]);
        assertUsageError(run("boot", "--kernel", junk.toString(), "--lab=never"), "not an x86_64 Linux kernel");
        Path initrd = tmp.resolve("missing-initrd");
        assertUsageError(run("boot", "--kernel", junk.toString(), "--initrd", initrd.toString()), "initrd");
    }

    @Test
    void kernelsAndInitrdsOverTheSizeLimitAreRefusedBeforeReading() throws Exception {
        Path huge = tmp.resolve("huge");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(3L << 30); // sparse: reading it whole would end in an OutOfMemoryError
        }
        assertUsageError(run("boot", "--kernel", huge.toString(), "--lab=never"), "jvmm loads at most");
        Path junk = tmp.resolve("junk");
        Files.write(junk, new byte[8192]);
        assertUsageError(run("boot", "--kernel", junk.toString(), "--initrd", huge.toString(), "--lab=never"),
                "initrd " + huge + " is " + (3L << 30) + " bytes");
    }

    @Test
    void imageArguments() throws Exception {
        Path junk = tmp.resolve("junk-kernel");
        Files.write(junk, new byte[8192]);
        Path img = tmp.resolve("some.img");
        Files.write(img, new byte[8192]);
        assertUsageError(run("boot", img.toString(), "--kernel", junk.toString()), "not both");
        assertUsageError(run("boot", "--exec", "true"), "--exec and --update-from go with an IMAGE");
        assertUsageError(run("boot", "--initrd", junk.toString()), "go with --kernel");
        assertUsageError(run("boot", tmp.resolve("nope.img").toString()), "no such file");
        assertUsageError(run("boot", img.toString(), "--max-boots", "0"), "--max-boots");
        assertUsageError(run("boot", img.toString(), "--lab=never"), "GPT");
        assertUsageError(run("boot", img.toString(), "--arch", "aarch64"), "an image's architecture is its kernel's");
        assertUsageError(run("image", "build", "--arch", "riscv64", "--out", tmp.resolve("x.img").toString()), "--arch");
    }

    @Test
    void outOfRangeMachineSizes() throws Exception {
        Path junk = tmp.resolve("k");
        Files.write(junk, new byte[8192]);
        assertUsageError(run("boot", "--kernel", junk.toString(), "--cpus", "0"), "--cpus");
        assertUsageError(run("boot", "--kernel", junk.toString(), "--mem", "1"), "--mem");
        assertUsageError(run("boot", "--kernel", junk.toString(), "--timeout", "-3"), "--timeout");
    }

    @Test
    void helpDocumentsExitCodes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        assertEquals(0, cl.execute("boot", "--help"));
        String help = out.toString();
        assertTrue(help.contains("124  --timeout expired"), help);
        assertTrue(help.contains("66   (image boot) no bootable slot"), help);
        assertTrue(help.contains("Ctrl-A x"), help);
    }
}
