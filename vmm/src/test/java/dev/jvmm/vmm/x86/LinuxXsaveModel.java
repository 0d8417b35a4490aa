package dev.jvmm.vmm.x86;

import dev.jvmm.vmm.kvm.CpuidEntries;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What Linux 6.1 does with CPUID leaf 0xD at boot (arch/x86/kernel/fpu/xstate.c,
 * fpu__init_system_xstate, init_xstate_size, paranoid_xstate_size_valid), and what KVM 6.1
 * answers for the sizes (arch/x86/kvm/cpuid.c, xstate_required_size): enough to tell, from a
 * CPUID table and the XCR0 KVM holds, whether the guest would warn "XSAVE consistency problem".
 */
final class LinuxXsaveModel {
    /** The outcome: the XCR0 and IA32_XSS the guest enables, and each warning it would print. */
    record Boot(long xcr0, long xss, boolean compacted, int size, int kernelSize, List<String> warnings) {}

    static final long USER_SUPPORTED = XsaveCpuid.X87 | XsaveCpuid.SSE | XsaveCpuid.YMM | XsaveCpuid.AVX512
            | XsaveCpuid.PKRU | XsaveCpuid.BNDREGS | XsaveCpuid.BNDCSR | XsaveCpuid.XTILE_CFG | XsaveCpuid.XTILE_DATA;
    static final long SUPERVISOR_SUPPORTED = 1L << 10; // PASID
    /** The kernel's struct size per component (check_xstate_against_struct). */
    static final Map<Integer, Integer> STRUCT_SIZES = Map.of(2, 256, 3, 64, 4, 64, 5, 64, 6, 512, 7, 1024, 9, 8, 10, 8,
            17, 64);

    private LinuxXsaveModel() {}

    /**
     * Boots the model: {@code guest} is the CPUID the guest reads; KVM answers sub-leaf 0 and 1
     * EBX itself from {@code kvmXcr0} (the XCR0 KVM believes the vCPU has) and the host's
     * component sizes in {@code host}.
     */
    static Boot boot(CpuidEntries guest, CpuidEntries host, long kvmXcr0) {
        List<String> warnings = new ArrayList<>();
        CpuidEntries.Entry l1 = XsaveCpuid.find(guest, 1, 0);
        CpuidEntries.Entry l7 = XsaveCpuid.find(guest, 7, 0);
        CpuidEntries.Entry d0 = XsaveCpuid.find(guest, 0xd, 0);
        CpuidEntries.Entry d1 = XsaveCpuid.find(guest, 0xd, 1);
        if ((l1.ecx & (1 << 26)) == 0 || d0 == null) {
            return new Boot(0, 0, false, 0, 0, warnings);
        }
        long max = Integer.toUnsignedLong(d0.eax) | Integer.toUnsignedLong(d0.edx) << 32;
        if (d1 != null) {
            max |= Integer.toUnsignedLong(d1.ecx) | Integer.toUnsignedLong(d1.edx) << 32;
        }
        for (int i = 0; i < 64; i++) {
            if ((max & (1L << i)) != 0 && !featureFor(i, l1, l7)) {
                max &= ~(1L << i);
            }
        }
        int d1eax = d1 == null ? 0 : d1.eax;
        if ((d1eax & (1 << 4)) == 0) {
            max &= ~XsaveCpuid.XTILE_DATA; // no XFD: no dynamic features
        }
        boolean xsaves = (d1eax & (1 << 3)) != 0;
        boolean compacted = xsaves || (d1eax & (1 << 1)) != 0;
        max &= USER_SUPPORTED | (xsaves ? SUPERVISOR_SUPPORTED : 0);
        long xcr0 = max & USER_SUPPORTED;
        long xss = max & ~USER_SUPPORTED;

        int lastOffset = 576;
        for (int i = 2; i < 64; i++) {
            if ((max & (1L << i)) == 0) {
                continue;
            }
            CpuidEntries.Entry e = XsaveCpuid.find(guest, 0xd, i);
            int sz = e == null ? 0 : e.eax;
            Integer want = STRUCT_SIZES.get(i);
            if (want == null && i != 18) {
                warnings.add("XSAVE consistency problem: No structure for xstate: " + i);
            } else if (want != null && sz != want) {
                warnings.add("XFEATURE " + i + ": struct is " + want + " bytes, cpu state " + sz + " bytes");
            }
            if ((xss & (1L << i)) == 0) {
                int offset = e == null ? 0 : e.ebx;
                if (lastOffset > offset) {
                    warnings.add("x86/fpu: misordered xstate at " + lastOffset);
                }
                lastOffset = offset;
            }
        }
        int userSize = XsaveCpuid.standardSize(host, kvmXcr0); // sub-leaf 0 EBX, as KVM answers
        int kernelSize = compacted ? XsaveCpuid.compactedSize(host, kvmXcr0) : userSize;
        int size = calculateSize(guest, max, compacted);
        if (size != kernelSize) {
            warnings.add("XSAVE consistency problem: size " + size + " != kernel_size " + kernelSize);
        }
        return new Boot(xcr0, xss, compacted, size, kernelSize, warnings);
    }

    /** xstate_calculate_size: from the guest's own sub-leaves. */
    private static int calculateSize(CpuidEntries guest, long features, boolean compacted) {
        int topmost = 63 - Long.numberOfLeadingZeros(features);
        if (topmost <= 1) {
            return 576;
        }
        CpuidEntries.Entry top = XsaveCpuid.find(guest, 0xd, topmost);
        if (!compacted) {
            return top.ebx + top.eax;
        }
        int offset = 576;
        for (int i = 2; i <= topmost; i++) {
            if ((features & (1L << i)) == 0) {
                continue;
            }
            CpuidEntries.Entry e = XsaveCpuid.find(guest, 0xd, i);
            if ((e.ecx & 2) != 0) {
                offset = (offset + 63) & ~63;
            }
            if (i == topmost) {
                break;
            }
            offset += e.eax;
        }
        return offset + top.eax;
    }

    /** xsave_cpuid_features: the CPUID bit each component needs (none: the component is cleared). */
    private static boolean featureFor(int component, CpuidEntries.Entry l1, CpuidEntries.Entry l7) {
        int b7 = l7 == null ? 0 : l7.ebx, c7 = l7 == null ? 0 : l7.ecx, d7 = l7 == null ? 0 : l7.edx;
        return switch (component) {
            case 0 -> (l1.edx & 1) != 0;
            case 1 -> (l1.edx & (1 << 25)) != 0;
            case 2 -> (l1.ecx & (1 << 28)) != 0;
            case 3, 4 -> (b7 & (1 << 14)) != 0;
            case 5, 6, 7 -> (b7 & (1 << 16)) != 0;
            case 8 -> (b7 & (1 << 25)) != 0;
            case 9 -> (c7 & (1 << 3)) != 0; // 6.1 keeps PKRU whatever CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS says
            case 10 -> (c7 & (1 << 29)) != 0;
            case 17, 18 -> (d7 & (1 << 24)) != 0;
            default -> false;
        };
    }
}
