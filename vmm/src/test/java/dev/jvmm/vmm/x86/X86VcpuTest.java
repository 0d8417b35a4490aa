package dev.jvmm.vmm.x86;

import dev.jvmm.vmm.kvm.CpuidEntries;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class X86VcpuTest {
    private static CpuidEntries supported() {
        return new CpuidEntries(List.of(
                new CpuidEntries.Entry(1, 0, 0, 0x00a20f10, 0x00000800, 0x7ed8320b, 0x178bfbff),
                new CpuidEntries.Entry(0xb, 0, 1, 1, 1, 0x100, 0),
                new CpuidEntries.Entry(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d)));
    }

    private static CpuidEntries.Entry leaf(CpuidEntries c, int function) {
        return c.entries().stream().filter(e -> e.function == function).findFirst().orElseThrow();
    }

    @Test
    void eachVcpuGetsItsApicIdAndTheHypervisorBit() {
        CpuidEntries s = supported();
        CpuidEntries c1 = X86Vcpu.cpuidFor(s, 1, 2);
        assertEquals(1, leaf(c1, 1).ebx >>> 24, "initial APIC ID in EBX[31:24]");
        assertEquals(2, (leaf(c1, 1).ebx >> 16) & 0xff, "logical processor count");
        assertNotEquals(0, leaf(c1, 1).ecx & (1 << 31), "hypervisor bit");
        assertEquals(1, leaf(c1, 0xb).edx, "x2APIC ID");
        assertEquals(0x800, leaf(c1, 1).ebx & 0xffff, "other EBX bits kept");
        assertEquals(0x4b4d564b, leaf(c1, 0x40000000).ebx, "KVM paravirt signature kept");
        assertEquals(0x00000800, leaf(s, 1).ebx, "the supported set is not modified");
    }
}
