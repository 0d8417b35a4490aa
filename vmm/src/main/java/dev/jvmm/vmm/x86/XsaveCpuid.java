package dev.jvmm.vmm.x86;

import dev.jvmm.vmm.kvm.CpuidEntries;

import java.util.Iterator;

/**
 * CPUID leaf 0xD (the XSAVE state components) made predictable, so that the guest's XCR0 is
 * known before it boots and jvmm can hand it to KVM ({@link #guestXcr0}).
 *
 * <p>Why: KVM computes leaf 0xD sub-leaf 0 EBX (and sub-leaf 1 EBX with XSAVEC/XSAVES), the XSAVE
 * area size, from the XCR0 it believes the vCPU has, and only learns a new XCR0 by intercepting
 * the guest's XSETBV. QEMU 7.2's TCG does not deliver XSETBV to a nested SVM hypervisor, so in the
 * lab L1's KVM keeps the reset XCR0 (x87 only) and reports 576 bytes while the guest enabled more:
 * Linux then warns "XSAVE consistency problem: size 2696 != kernel_size 576" with a stack trace
 * and boots without XSAVE (no AVX). Worse, KVM loads its stale XCR0 on every VM entry, so the
 * guest would lose its AVX state anyway. With XCR0 set through KVM_SET_XCRS to exactly what the
 * guest will enable, KVM's sizes match the guest's and KVM loads the right XCR0; on hardware KVM
 * the guest's own XSETBV then sets the same value.
 *
 * <p>Which components stay: those every Linux enables whenever CPUID offers them with their
 * feature bit (arch/x86/kernel/fpu/xstate.c, xsave_cpuid_features): x87, SSE, AVX and the three
 * AVX-512 components. Masked, with the feature bits that lead to them (their sizes cannot be made
 * consistent because whether a guest enables them depends on its version and configuration):
 * PKRU (protection keys: Linux 6.1 enables it whatever its config; later kernels follow
 * CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS), MPX (removed from Linux in 5.6, still offered by KVM),
 * AMX tiles (dynamic, XFD-managed, offered by KVM only after a permission request jvmm does not
 * make) and any component this class does not know. Supervisor components (IA32_XSS) stay as KVM
 * offers them: the guest writes IA32_XSS with WRMSR, which KVM does see. Sizes and offsets of the
 * kept components are never changed: the CPU's XSAVE uses the real ones.
 */
public final class XsaveCpuid {
    static final int LEAF = 0xd;
    /** The legacy FXSAVE region and the XSAVE header: where extended components start. */
    static final int LEGACY_AND_HEADER = 512 + 64;

    public static final long X87 = 1L, SSE = 1L << 1, YMM = 1L << 2, BNDREGS = 1L << 3, BNDCSR = 1L << 4,
            OPMASK = 1L << 5, ZMM_HI256 = 1L << 6, HI16_ZMM = 1L << 7, PKRU = 1L << 9, XTILE_CFG = 1L << 17,
            XTILE_DATA = 1L << 18;
    public static final long AVX512 = OPMASK | ZMM_HI256 | HI16_ZMM;

    // Feature bits tied to the components above.
    private static final int L1_ECX_FMA = 1 << 12, L1_ECX_XSAVE = 1 << 26, L1_ECX_AVX = 1 << 28, L1_ECX_F16C = 1 << 29;
    private static final int L7_EBX_AVX2 = 1 << 5, L7_EBX_MPX = 1 << 14, L7_EBX_AVX512F = 1 << 16;
    /** AVX512F, DQ, IFMA, PF, ER, CD, BW, VL. */
    private static final int L7_EBX_AVX512_ALL = L7_EBX_AVX512F | 1 << 17 | 1 << 21 | 1 << 26 | 1 << 27 | 1 << 28
            | 1 << 30 | 1 << 31;
    /** AVX512_VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ. */
    private static final int L7_ECX_AVX512_ALL = 1 << 1 | 1 << 6 | 1 << 11 | 1 << 12 | 1 << 14;
    private static final int L7_ECX_PKU = 1 << 3, L7_ECX_OSPKE = 1 << 4;
    /** AVX512_4VNNIW, 4FMAPS, VP2INTERSECT, FP16. */
    private static final int L7_EDX_AVX512_ALL = 1 << 2 | 1 << 3 | 1 << 8 | 1 << 23;
    /** AMX_BF16, AMX_TILE, AMX_INT8. */
    private static final int L7_EDX_AMX = 1 << 22 | 1 << 24 | 1 << 25;
    private static final int L7_1_EAX_AVX512_BF16 = 1 << 5;
    private static final int D1_EAX_XSAVEC = 1 << 1, D1_EAX_XSAVES = 1 << 3, D1_EAX_XFD = 1 << 4;

    private XsaveCpuid() {}

    /**
     * Rewrites leaf 0xD of {@code c} (a vCPU's own copy) to the predictable components, clears the
     * feature bits of the masked ones and recomputes the sizes. Leaves {@code c} alone when the
     * CPU has no XSAVE.
     */
    public static void normalise(CpuidEntries c) {
        CpuidEntries.Entry l1 = find(c, 1, 0);
        CpuidEntries.Entry d0 = find(c, LEAF, 0);
        if (l1 == null || d0 == null || (l1.ecx & L1_ECX_XSAVE) == 0) {
            return;
        }
        long offered = userComponents(d0);
        long kept = keptComponents(c, offered);
        long dropped = offered & ~kept;
        CpuidEntries.Entry l7 = find(c, 7, 0);
        if ((dropped & YMM) != 0) {
            l1.ecx &= ~(L1_ECX_AVX | L1_ECX_FMA | L1_ECX_F16C);
            if (l7 != null) {
                l7.ebx &= ~L7_EBX_AVX2;
            }
        }
        if (l7 != null) {
            if ((kept & AVX512) == 0) {
                l7.ebx &= ~L7_EBX_AVX512_ALL;
                l7.ecx &= ~L7_ECX_AVX512_ALL;
                l7.edx &= ~L7_EDX_AVX512_ALL;
                CpuidEntries.Entry l71 = find(c, 7, 1);
                if (l71 != null) {
                    l71.eax &= ~L7_1_EAX_AVX512_BF16;
                }
            }
            l7.ecx &= ~(L7_ECX_PKU | L7_ECX_OSPKE);
            l7.ebx &= ~L7_EBX_MPX;
            l7.edx &= ~L7_EDX_AMX;
        }
        CpuidEntries.Entry d1 = find(c, LEAF, 1);
        long supervisor = d1 == null ? 0 : supervisorComponents(d1);
        // Sub-leaves 2..63 of dropped user components go; supervisor ones stay.
        for (Iterator<CpuidEntries.Entry> it = c.entries().iterator(); it.hasNext(); ) { // a loop: runs at every VM start
            CpuidEntries.Entry e = it.next();
            if (e.function == LEAF && e.index >= 2 && e.index < 64
                    && (kept & (1L << e.index)) == 0 && (supervisor & (1L << e.index)) == 0) {
                it.remove();
            }
        }
        d0.eax = (int) kept;
        d0.edx = (int) (kept >>> 32);
        d0.ecx = standardSize(c, kept);
        d0.ebx = standardSize(c, kept); // what KVM reports once XCR0 is guestXcr0(c)
        if (d1 != null) {
            d1.eax &= ~D1_EAX_XFD;
            d1.ebx = (d1.eax & (D1_EAX_XSAVEC | D1_EAX_XSAVES)) != 0 ? compactedSize(c, kept) : 0;
        }
    }

    /**
     * The XCR0 a Linux guest sets from the (normalised) CPUID {@code c}: every component of
     * sub-leaf 0. Zero when the CPU has no XSAVE (XCR0 is then left alone).
     */
    public static long guestXcr0(CpuidEntries c) {
        CpuidEntries.Entry l1 = find(c, 1, 0);
        CpuidEntries.Entry d0 = find(c, LEAF, 0);
        if (l1 == null || d0 == null || (l1.ecx & L1_ECX_XSAVE) == 0) {
            return 0;
        }
        return userComponents(d0);
    }

    /** The components of {@code offered} a guest predictably enables, given the feature bits in {@code c}. */
    static long keptComponents(CpuidEntries c, long offered) {
        long kept = offered & (X87 | SSE);
        CpuidEntries.Entry l1 = find(c, 1, 0);
        CpuidEntries.Entry l7 = find(c, 7, 0);
        if ((offered & YMM) != 0 && (l1.ecx & L1_ECX_AVX) != 0 && hasSize(c, 2)) {
            kept |= YMM;
            if ((offered & AVX512) == AVX512 && l7 != null && (l7.ebx & L7_EBX_AVX512F) != 0
                    && hasSize(c, 5) && hasSize(c, 6) && hasSize(c, 7)) {
                kept |= AVX512;
            }
        }
        return kept;
    }

    /**
     * The standard-format XSAVE area for {@code components}: the end of the furthest one (as
     * Linux's xstate_calculate_size and KVM's xstate_required_size compute it).
     */
    public static int standardSize(CpuidEntries c, long components) {
        int size = LEGACY_AND_HEADER;
        for (int i = 2; i < 64; i++) {
            CpuidEntries.Entry e = (components & (1L << i)) == 0 ? null : find(c, LEAF, i);
            if (e != null) {
                size = Math.max(size, e.ebx + e.eax);
            }
        }
        return size;
    }

    /** The compacted-format area (XSAVEC/XSAVES) for {@code components}: packed, 64-byte aligned where ECX bit 1 says. */
    public static int compactedSize(CpuidEntries c, long components) {
        int size = LEGACY_AND_HEADER;
        for (int i = 2; i < 64; i++) {
            CpuidEntries.Entry e = (components & (1L << i)) == 0 ? null : find(c, LEAF, i);
            if (e != null) {
                if ((e.ecx & 2) != 0) {
                    size = (size + 63) & ~63;
                }
                size += e.eax;
            }
        }
        return size;
    }

    private static boolean hasSize(CpuidEntries c, int component) {
        CpuidEntries.Entry e = find(c, LEAF, component);
        return e != null && e.eax != 0;
    }

    /** XCR0 (user) components: sub-leaf 0 EDX:EAX. */
    private static long userComponents(CpuidEntries.Entry d0) {
        return Integer.toUnsignedLong(d0.eax) | (Integer.toUnsignedLong(d0.edx) << 32);
    }

    /** IA32_XSS (supervisor) components: sub-leaf 1 EDX:ECX. */
    private static long supervisorComponents(CpuidEntries.Entry d1) {
        return Integer.toUnsignedLong(d1.ecx) | (Integer.toUnsignedLong(d1.edx) << 32);
    }

    static CpuidEntries.Entry find(CpuidEntries c, int function, int index) {
        for (CpuidEntries.Entry e : c.entries()) {
            if (e.function == function && (e.index == index || !indexed(function))) {
                return e;
            }
        }
        return null;
    }

    /** Leaves whose sub-leaf (ECX) matters, among those this class reads. */
    private static boolean indexed(int function) {
        return function == 7 || function == LEAF;
    }
}
