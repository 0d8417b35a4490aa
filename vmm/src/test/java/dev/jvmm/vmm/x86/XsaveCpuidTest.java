package dev.jvmm.vmm.x86;

import dev.jvmm.vmm.kvm.CpuidEntries;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Leaf 0xD normalisation against CPUID tables: the one KVM offers in the lab's L1 (recorded) and
 * two Intel-like ones built from the SDM's standard layout, checked with a model of the checks
 * Linux 6.1 makes at boot and of the sizes KVM 6.1 reports.
 */
class XsaveCpuidTest {
    /** The XCR0 KVM keeps when the guest's XSETBV never reaches it: the reset value, x87 only. */
    private static final long RESET_XCR0 = XsaveCpuid.X87;

    static CpuidEntries load(String resource) throws IOException {
        List<CpuidEntries.Entry> list = new ArrayList<>();
        try (InputStream in = XsaveCpuidTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, resource);
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (!line.startsWith("cpuid 0x")) {
                    continue;
                }
                // cpuid 0x0000000d.1 flags 1: eax 00000005 ebx 00000000 ecx 00000000 edx 00000000
                String[] w = line.split("[ .:]+");
                list.add(new CpuidEntries.Entry(Integer.parseUnsignedInt(w[1].substring(2), 16), Integer.parseInt(w[2]),
                        Integer.parseInt(w[4]), Integer.parseUnsignedInt(w[6], 16), Integer.parseUnsignedInt(w[8], 16),
                        Integer.parseUnsignedInt(w[10], 16), Integer.parseUnsignedInt(w[12], 16)));
            }
        }
        return new CpuidEntries(list);
    }

    static CpuidEntries lab() throws IOException {
        return load("kvm-supported-cpuid-lab-tcg-max.txt");
    }

    private static CpuidEntries.Entry e(int function, int index, int eax, int ebx, int ecx, int edx) {
        return new CpuidEntries.Entry(function, index, function == 7 || function == 0xd ? 1 : 0, eax, ebx, ecx, edx);
    }

    /**
     * An Intel server CPU with AVX-512, MPX, PKU and XSAVEC/XSAVES as KVM offers it, components at
     * their SDM standard-format offsets (YMM 576, BNDREGS 960, BNDCSR 1024, opmask 1088,
     * ZMM_Hi256 1152, Hi16_ZMM 1664, PKRU 2688); {@code amx} adds the tile components (2752,
     * 2816, the data 64-byte aligned) with AMX_TILE and XFD.
     */
    static CpuidEntries intel(boolean amx) {
        long xcr0 = 0x2ffL | (amx ? XsaveCpuid.XTILE_CFG | XsaveCpuid.XTILE_DATA : 0);
        List<CpuidEntries.Entry> l = new ArrayList<>(List.of(
                e(0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69),
                e(1, 0, 0x50654, 0x800, (1 << 26) | (1 << 28) | (1 << 29) | (1 << 12) | 1, 1 | (1 << 25) | (1 << 26)),
                e(7, 0, 0, (1 << 5) | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 28) | (1 << 30) | (1 << 31),
                        (1 << 3) | (1 << 11), amx ? (1 << 22) | (1 << 24) | (1 << 25) : 0),
                e(0xd, 0, (int) xcr0, 0, amx ? 2816 + 8192 : 2696, 0),
                e(0xd, 1, 0xf | (amx ? 1 << 4 : 0), 0, 0, 0),
                e(0xd, 2, 256, 576, 0, 0),
                e(0xd, 3, 64, 960, 0, 0),
                e(0xd, 4, 64, 1024, 0, 0),
                e(0xd, 5, 64, 1088, 0, 0),
                e(0xd, 6, 512, 1152, 0, 0),
                e(0xd, 7, 1024, 1664, 0, 0),
                e(0xd, 9, 8, 2688, 0, 0)));
        if (amx) {
            l.add(e(0xd, 17, 64, 2752, 0, 0));
            l.add(e(0xd, 18, 8192, 2816, 2, 0));
        }
        return new CpuidEntries(l);
    }

    @Test
    void theLabsTableAsKvmOffersItGivesTheLabsWarning() throws IOException {
        CpuidEntries raw = lab();
        LinuxXsaveModel.Boot boot = LinuxXsaveModel.boot(raw, raw, RESET_XCR0);
        assertEquals(0x207, boot.xcr0(), "the guest enables x87, SSE, AVX and PKRU");
        // The very line the lab's boot log printed.
        assertEquals(List.of("XSAVE consistency problem: size 2696 != kernel_size 576"), boot.warnings());
    }

    @Test
    void theLabsTableNormalisedBootsCleanWithXsaveAndAvx() throws IOException {
        CpuidEntries supported = lab();
        CpuidEntries guest = X86Vcpu.cpuidFor(supported, 0, 1);
        long xcr0 = XsaveCpuid.guestXcr0(guest);
        assertEquals(XsaveCpuid.X87 | XsaveCpuid.SSE | XsaveCpuid.YMM, xcr0);
        LinuxXsaveModel.Boot boot = LinuxXsaveModel.boot(guest, supported, xcr0);
        assertEquals(List.of(), boot.warnings());
        assertEquals(xcr0, boot.xcr0(), "the XCR0 jvmm hands KVM is the one the guest sets");
        assertEquals(832, boot.size(), "576 + AVX's 256");
        CpuidEntries.Entry d0 = XsaveCpuid.find(guest, 0xd, 0);
        assertEquals(832, d0.ebx);
        assertEquals(832, d0.ecx, "ECX: the area for every offered component");
        assertNull(XsaveCpuid.find(guest, 0xd, 9), "PKRU's sub-leaf is gone");
        assertEquals(0, XsaveCpuid.find(guest, 7, 0).ecx & (1 << 3), "PKU cleared with PKRU");
        assertTrue((XsaveCpuid.find(guest, 1, 0).ecx & (1 << 28)) != 0, "AVX kept");
        assertEquals(0x207, XsaveCpuid.find(supported, 0xd, 0).eax, "KVM's table itself is not changed");
    }

    @Test
    void intelWithAvx512MpxPkuAndXsavesKeepsAvx512AndComputesCompactedSizes() {
        CpuidEntries supported = intel(false);
        assertFalse(LinuxXsaveModel.boot(supported, supported, RESET_XCR0).warnings().isEmpty(),
                "as offered, an XSETBV KVM never sees breaks the sizes");
        CpuidEntries guest = X86Vcpu.cpuidFor(supported, 0, 1);
        long xcr0 = XsaveCpuid.guestXcr0(guest);
        assertEquals(XsaveCpuid.X87 | XsaveCpuid.SSE | XsaveCpuid.YMM | XsaveCpuid.AVX512, xcr0);
        LinuxXsaveModel.Boot boot = LinuxXsaveModel.boot(guest, supported, xcr0);
        assertEquals(List.of(), boot.warnings());
        assertTrue(boot.compacted());
        assertEquals(576 + 256 + 64 + 512 + 1024, boot.size(), "compacted: MPX's and PKRU's holes closed");
        assertEquals(boot.size(), XsaveCpuid.find(guest, 0xd, 1).ebx);
        assertEquals(1664 + 1024, XsaveCpuid.find(guest, 0xd, 0).ecx, "standard: up to the end of Hi16_ZMM");
        CpuidEntries.Entry l7 = XsaveCpuid.find(guest, 7, 0);
        assertEquals(0, l7.ebx & (1 << 14), "MPX cleared");
        assertEquals(0, l7.ecx & (1 << 3), "PKU cleared");
        assertTrue((l7.ebx & (1 << 16)) != 0 && (l7.ebx & (1 << 5)) != 0, "AVX512F and AVX2 kept");
        for (int gone : new int[] {3, 4, 9}) {
            assertNull(XsaveCpuid.find(guest, 0xd, gone), "sub-leaf " + gone);
        }
    }

    @Test
    void amxTilesAreMaskedWithTheirFeatureBitsAndXfd() {
        CpuidEntries guest = X86Vcpu.cpuidFor(intel(true), 0, 1);
        assertEquals(0, XsaveCpuid.find(guest, 7, 0).edx & ((1 << 22) | (1 << 24) | (1 << 25)));
        assertEquals(0, XsaveCpuid.find(guest, 0xd, 1).eax & (1 << 4), "XFD");
        assertNull(XsaveCpuid.find(guest, 0xd, 17));
        assertNull(XsaveCpuid.find(guest, 0xd, 18));
        long xcr0 = XsaveCpuid.guestXcr0(guest);
        assertEquals(List.of(), LinuxXsaveModel.boot(guest, intel(true), xcr0).warnings());
    }

    @Test
    void whereKvmSeesTheGuestsXsetbvTheNormalisedTableIsConsistentToo() throws IOException {
        for (CpuidEntries supported : List.of(lab(), intel(false), intel(true))) {
            CpuidEntries guest = X86Vcpu.cpuidFor(supported, 0, 1);
            LinuxXsaveModel.Boot first = LinuxXsaveModel.boot(guest, supported, XsaveCpuid.guestXcr0(guest));
            // Hardware KVM follows the guest's own XSETBV: the XCR0 the guest chose.
            assertEquals(List.of(), LinuxXsaveModel.boot(guest, supported, first.xcr0()).warnings());
        }
    }

    @Test
    void aCpuWithoutXsaveIsLeftAlone() {
        CpuidEntries supported = new CpuidEntries(List.of(e(1, 0, 0x50654, 0x800, 1, 1 | (1 << 25)),
                e(0xd, 0, 3, 576, 576, 0)));
        CpuidEntries guest = X86Vcpu.cpuidFor(supported, 0, 1);
        assertEquals(0, XsaveCpuid.guestXcr0(guest));
        assertEquals(3, XsaveCpuid.find(guest, 0xd, 0).eax);
    }
}
