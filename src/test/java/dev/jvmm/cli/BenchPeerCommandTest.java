package dev.jvmm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jvmm.bootbench.BenchJson;
import dev.jvmm.bootbench.BootRun;
import dev.jvmm.bootbench.Phase;
import dev.jvmm.lab.LabMarkers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bench-peer's refusals, and the runs it passes out of the lab on the console as JSON lines. */
class BenchPeerCommandTest {
    @TempDir
    Path tmp;

    @Test
    void isHiddenFromTheUsage() {
        CommandLine cl = Main.commandLine();
        assertTrue(cl.getSubcommands().containsKey("bench-peer"));
        assertTrue(cl.getSubcommands().get("bench-peer").getCommandSpec().usageMessage().hidden());
    }

    @Test
    void refusesWhatItCannotRunWithOneLine() throws Exception {
        Path k = Files.writeString(tmp.resolve("k"), "x");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench-peer", "--lab=never", "--vmm", "floor", "--cpus", "2",
                "--kernel", k.toString(), "--initrd", k.toString()), "the floor VMM runs one vCPU");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench-peer", "--lab=never", "--vmm", "bochs",
                "--kernel", k.toString(), "--initrd", k.toString()), "unknown peer VMM 'bochs'");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench-peer", "--lab=never", "--vmm", "qemu",
                "--kernel", tmp.resolve("none").toString(), "--initrd", k.toString()), "cannot read");
        CliErrorsTest.assertUsageError(CliErrorsTest.run("bench-peer", "--lab=never", "--vmm", "qemu", "--mem", "8",
                "--kernel", k.toString(), "--initrd", k.toString()), "--mem 32 to 3072");
    }

    @Test
    void runsComeOutOfTheLabAsDataLinesAndGoIntoTheJsonFile() throws Exception {
        BootRun run = new BootRun("floor", 2, false, Map.of(Phase.FIRST_KVM_RUN, 150.0, Phase.READY, 7801.5,
                Phase.EXITED, 7986.25), 4734.5, 3690.0, 34540L, 33976L, 0, null);
        String console = "[    9.6] Run /init as init process\r\nfloor #2: ...\r\n"
                + BenchPeerCommand.LAB_DATA + BenchJson.runLine(run) + "\r\nJVMM-LAB-EXIT=0\r\n";
        ByteArrayOutputStream passed = new ByteArrayOutputStream();
        List<BootRun> back = new ArrayList<>();
        LabMarkers lab = new LabMarkers(passed, line -> back.add(BenchJson.parseRun(line)));
        for (byte b : console.getBytes(StandardCharsets.UTF_8)) {
            lab.write(b);
        }
        assertEquals(List.of(run), back);
        assertFalse(passed.toString(StandardCharsets.UTF_8).contains("LAB-DATA"), "the data line is taken out");
        assertEquals(0, lab.exitStatus());

        JsonNode array = new ObjectMapper().readTree(BenchPeerCommand.jsonArray(List.of(run, run)));
        assertEquals(2, array.size());
        assertEquals(run, BenchJson.parseRun(array.get(1).toString()));
        assertEquals(7801.5, array.get(0).path("phases").path("ready").asDouble());
    }
}
