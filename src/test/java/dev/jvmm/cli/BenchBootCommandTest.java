package dev.jvmm.cli;

import dev.jvmm.bootbench.BenchJson;
import dev.jvmm.bootbench.BootRun;
import dev.jvmm.bootbench.Phase;
import dev.jvmm.lab.LabMarkers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** jvmm bench boot's refusals (one line, status 2, before any lab or KVM work) and its way out of the lab. */
class BenchBootCommandTest {
    @TempDir
    Path tmp;

    @Test
    void refusesWhatItCannotRunWithOneLine() throws Exception {
        Path k = Files.writeString(tmp.resolve("k"), "x");
        Path img = Files.writeString(tmp.resolve("disk.img"), "x");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench", "boot", "--lab=never", "--compare", "floor", "--cpus", "2",
                "--kernel", k.toString(), "--initrd", k.toString()), "the floor VMM runs one vCPU");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench", "boot", "--lab=never", "--compare", "bochs",
                "--kernel", k.toString(), "--initrd", k.toString()), "--compare takes qemu and floor, not bochs");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench", "boot", "--lab=never",
                "--kernel", tmp.resolve("none").toString(), "--initrd", k.toString()), "does not exist");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench", "boot", "--lab=never", "--runs", "0",
                "--kernel", k.toString(), "--initrd", k.toString()), "--runs must be between 1 and 10000");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench", "boot", "--lab=never", "--stub", "--compare", "qemu"),
                "--stub boots jvmm's stub guest alone");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench", "boot", "--lab=never", "--stub", "--kernel", k.toString()),
                "--stub boots jvmm's stub guest alone");
        // With --compare an image's kernel is read as the firmware would: a disk that is no image says why.
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench", "boot", "--lab=never", "--compare", "qemu",
                img.toString()), "GPT");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench", "boot", "--lab=never", "--log", "loud",
                "--kernel", k.toString(), "--initrd", k.toString()), "--log is quiet or full");
        byte[] arm64 = new byte[4096];
        java.nio.ByteBuffer.wrap(arm64).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0x38, 0x644d5241); // "ARM\x64"
        Path image = Files.write(tmp.resolve("Image"), arm64);
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench", "boot", "--lab=never", "--kernel", image.toString(),
                "--initrd", k.toString()), "times x86_64 guests on an x86_64 host; this is an aarch64 guest");
    }

    @Test
    void runsComeOutOfTheLabAsDataLinesAndNothingElseIsTakenOut() throws Exception {
        BootRun run = new BootRun("floor", 2, false, Map.of(Phase.FIRST_KVM_RUN, 150.0, Phase.READY, 7801.5,
                Phase.EXITED, 7986.25), 4734.5, 3690.0, 34540L, 33976L, 0, null);
        String console = "[    9.6] Run /init as init process\r\nbench boot 2/3: floor #2 ready\r\n"
                + "JVMM-LAB-DATA=" + BenchJson.runLine(run) + "\r\nJVMM-LAB-EXIT=0\r\n";
        ByteArrayOutputStream passed = new ByteArrayOutputStream();
        List<BootRun> back = new ArrayList<>();
        LabMarkers lab = new LabMarkers(passed, line -> back.add(BenchJson.parseRun(line)));
        for (byte b : console.getBytes(StandardCharsets.UTF_8)) {
            lab.write(b);
        }
        assertEquals(List.of(run), back);
        String rest = passed.toString(StandardCharsets.UTF_8);
        assertFalse(rest.contains("LAB-DATA"), "the data line is taken out");
        assertEquals("[    9.6] Run /init as init process\r\nbench boot 2/3: floor #2 ready\r\n\n\n", rest); // a marker ends at its \r; its \n passes
        assertEquals(0, lab.exitStatus());
    }
}
