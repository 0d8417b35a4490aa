package dev.jvmm.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jvmm.bootbench.BenchJson;
import dev.jvmm.bootbench.BootRun;
import dev.jvmm.bootbench.Phase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The boot bench's peers, QEMU microvm and the C floor, boot jvmm's kernel with the bench init in
 * ONE lab L1 (or on the host's hardware KVM) and are measured: each reaches the ready marker, its
 * phases come in boot order, and it ends with status 0 (the floor by the exit register, QEMU by
 * ACPI poweroff).
 */
class BenchPeersIT {
    @TempDir
    Path tmp;

    @Test
    void qemuAndTheFloorBootToReadyInOneLab() throws Exception {
        Path bzImage = Jvmm.kernel()[1];
        Path json = tmp.resolve("runs.json");
        Jvmm.Result r = Jvmm.run(1500, "bench-peer", "--vmm", "qemu,floor", "--kernel", bzImage.toString(),
                "--timeout", "300", "--json", json.toString());
        assertEquals(0, r.status(), r.all());
        assertTrue(count(r.err(), "running in the nested lab") <= 1, "one lab start at most: " + r.err());
        List<BootRun> parsed = new ArrayList<>();
        new ObjectMapper().readTree(Files.readString(json)).forEach(n -> parsed.add(BenchJson.parseRun(n.toString())));
        BootRun[] runs = parsed.toArray(BootRun[]::new);
        assertEquals(List.of("qemu", "floor"), List.of(runs[0].vmm(), runs[1].vmm()), r.all());
        for (BootRun run : runs) {
            String what = run.vmm() + ": " + run + "\n" + r.out();
            assertTrue(run.ok(), what);
            assertEquals(0, run.exitStatus(), what);
            for (Phase p : List.of(Phase.FIRST_KVM_RUN, Phase.FIRST_CONSOLE_BYTE, Phase.RUN_INIT, Phase.READY,
                    Phase.EXITED)) {
                assertNotNull(run.at(p), p + " missing: " + what);
            }
            List<Double> inOrder = new ArrayList<>(run.phases().values()); // EnumMap: in Phase (boot) order
            for (int i = 1; i < inOrder.size(); i++) {
                assertTrue(inOrder.get(i - 1) <= inOrder.get(i), "phases out of order: " + what);
            }
            assertTrue(run.at(Phase.FIRST_KVM_RUN) > 0, what);
            assertTrue(run.guestRunInitMs() > 0 && run.guestUptimeAtReadyMs() > 0, what);
            assertTrue(run.guestTouchedKib() != null && run.peakRssKib() != null, what);
            assertTrue(run.guestTouchedKib() > 1024 && run.peakRssKib() >= run.guestTouchedKib(), what);
        }
        assertTrue(runs[1].at(Phase.VM_STOPPED) != null, "the floor reports when it stopped: " + runs[1]);
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
