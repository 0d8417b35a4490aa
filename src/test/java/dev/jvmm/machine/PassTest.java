package dev.jvmm.machine;

import dev.jvmm.boot.ab.AbAttributes;
import dev.jvmm.images.disk.Layout;
import dev.jvmm.images.firmware.BootChoice;
import dev.jvmm.vmm.vcpu.StopReason;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** How a firmware pass's outcome is told from the VM's events, and what --metrics records of it. */
class PassTest {
    static Pass pass() {
        BootChoice c = new BootChoice(Layout.BOTTLEROCKET, "B", "2.0.0", new AbAttributes(2, 1, false),
                new AbAttributes(2, 0, false), new byte[0], "ro", List.of(), null);
        return new Pass(2, c, new Timeline().forPass(2));
    }

    static final StopReason RESET = StopReason.of(StopReason.Kind.RESET, "ACPI reset");

    @Test
    void theLineSaysSlotVersionAndTheDecrement() {
        assertEquals("boot 2: bottlerocket slot B v2.0.0 (priority 2, tries 1->0, not yet successful)",
                pass().choice().describe(2));
    }

    @Test
    void outcomes() {
        Pass verity = pass();
        verity.consoleLine("[    4.1] device-mapper: verity: 253:0: data block 0 is corrupted");
        verity.ended(RESET);
        assertEquals("verity", verity.outcome());

        Pass panic = pass();
        panic.consoleLine("[    5.0] Kernel panic - not syncing: VFS: Unable to mount root fs");
        panic.ended(RESET);
        assertEquals("panicked", panic.outcome());

        Pass rebooted = pass();
        rebooted.ended(RESET);
        assertEquals("rebooted", rebooted.outcome());

        Pass off = pass();
        off.ended(StopReason.of(StopReason.Kind.POWER_OFF, "ACPI S5"));
        assertEquals("powered-off", off.outcome());

        Pass late = pass();
        late.ended(StopReason.of(StopReason.Kind.TIMEOUT, "--timeout"));
        assertEquals("timeout", late.outcome());

        Pass marked = pass();
        marked.guestReady();
        assertEquals("ready", marked.outcome());
        marked.marked();
        marked.ended(StopReason.of(StopReason.Kind.POWER_OFF, "ACPI S5"));
        assertEquals("marked", marked.outcome());
    }

    @Test
    void metricsEntry() {
        Pass p = pass();
        p.guestReady();
        p.marked();
        Map<String, Object> m = p.toJson();
        assertEquals(2, m.get("pass"));
        assertEquals("bottlerocket", m.get("layout"));
        assertEquals("B", m.get("slot"));
        assertEquals("2.0.0", m.get("version"));
        assertEquals(1, m.get("tries_before"));
        assertEquals(0, m.get("tries_after"));
        assertEquals("marked", m.get("outcome"));
        assertNotNull(m.get("ready_ms"), "ready_ms: " + m);
    }
}
