package dev.jvmm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jvmm.bootbench.BootRun;
import dev.jvmm.bootbench.Phase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void runLinesFromTheLabConsoleComeBackAsBootRuns() throws Exception {
        BootRun run = new BootRun("floor", 2, false, Map.of(Phase.FIRST_KVM_RUN, 150.0, Phase.READY, 7801.5,
                Phase.EXITED, 7986.25), 4734.5, 3690.0, 34540L, 33976L, 0, null);
        ObjectMapper m = BenchPeerCommand.mapper();
        String console = "[    9.6] Run /init as init process\r\nfloor #2: ...\r\n"
                + BenchPeerCommand.RUN_PREFIX + m.writeValueAsString(run) + "\r\nJVMM-LAB-EXIT=0\r\n";
        ByteArrayOutputStream passed = new ByteArrayOutputStream();
        BenchPeerCommand.RunLines lines = new BenchPeerCommand.RunLines(passed);
        for (byte b : console.getBytes(StandardCharsets.UTF_8)) {
            lines.write(b);
        }
        assertEquals(console, passed.toString(StandardCharsets.UTF_8), "everything passes through");
        assertEquals(1, lines.runs.size());
        BootRun back = m.readValue(lines.runs.get(0), BootRun.class);
        assertEquals(run, back);
        assertEquals(7801.5, back.at(Phase.READY));
        assertTrue(back.ok());
    }
}
