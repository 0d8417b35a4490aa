package dev.jvmm.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KvmReportCommandTest {
    @Test
    void everyCapabilityNumberIsLinuxKvmHs() throws Exception {
        Map<String, Integer> headers = new HashMap<>();
        Process p;
        try {
            p = new ProcessBuilder("gcc", "-dM", "-E", "-include", "linux/kvm.h", "-x", "c", "/dev/null").start();
        } catch (java.io.IOException noGcc) {
            assumeTrue(false, "needs gcc and linux-libc-dev");
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(p.waitFor() == 0, "needs linux-libc-dev's linux/kvm.h");
        Matcher m = Pattern.compile("(?m)^#define (KVM_CAP_\\w+) (\\d+)$").matcher(out);
        while (m.find()) {
            headers.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertTrue(headers.size() > 100, "read " + headers.size() + " capabilities");
        KvmReportCommand.CAPABILITIES.forEach((name, value) -> assertEquals(headers.get(name), value, name));
        KvmReportCommand.X86_CAPABILITIES.forEach(n -> assertTrue(KvmReportCommand.CAPABILITIES.containsKey(n), n));
    }

    @Test
    void theReportIsHiddenFromHelpButRuns() {
        String help = Main.commandLine().getUsageMessage();
        assertTrue(!help.contains("kvm-report"), help);
        assertTrue(Main.COMMANDS.contains("kvm-report"));
        assertEquals(0, Main.commandLine("kvm-report").execute("kvm-report", "--help"));
    }

    @Test
    void aForeignArchitectureWithoutTheLabIsRefusedInWords() {
        String foreign = dev.jvmm.lab.LabArch.host() == dev.jvmm.lab.LabArch.X86_64 ? "aarch64" : "x86_64";
        java.io.StringWriter err = new java.io.StringWriter();
        var cl = Main.commandLine("kvm-report");
        cl.setErr(new java.io.PrintWriter(err));
        int rc = cl.execute("kvm-report", "--lab=never", "--arch", foreign);
        assertEquals(2, rc, err.toString());
    }
}
