package dev.jvmm.vmm.x86;

import dev.jvmm.vmm.kvm.CpuidEntries;
import dev.jvmm.vmm.kvm.KvmVcpu;

import java.nio.ByteBuffer;

/** Puts an x86 vCPU into the state Linux's 64-bit boot protocol expects. */
public final class X86Vcpu {
    private static final long CR0_PE = 1L;
    private static final long CR0_ET = 1L << 4;
    private static final long CR0_PG = 1L << 31;
    private static final long CR4_PAE = 1L << 5;
    private static final long EFER_LME = 1L << 8;
    private static final long EFER_LMA = 1L << 10;

    // kvm_sregs offsets
    private static final int SEG_SIZE = 24;
    private static final int CS = 0, DS = 1, ES = 2, FS = 3, GS = 4, SS = 5, TR = 6;
    private static final int GDT_OFF = 192, IDT_OFF = 208, CR0_OFF = 224, CR3_OFF = 240, CR4_OFF = 248,
            EFER_OFF = 264;

    // MSRs initialised at boot, as Firecracker and QEMU do
    static final int MSR_IA32_SYSENTER_CS = 0x174, MSR_IA32_SYSENTER_ESP = 0x175, MSR_IA32_SYSENTER_EIP = 0x176;
    static final int MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083,
            MSR_SYSCALL_MASK = 0xc0000084, MSR_KERNEL_GS_BASE = 0xc0000102;
    static final int MSR_IA32_TSC = 0x10, MSR_IA32_MISC_ENABLE = 0x1a0, MSR_MTRR_DEF_TYPE = 0x2ff;

    private X86Vcpu() {}

    /**
     * CPUID for vCPU {@code id} of {@code count}: KVM's supported set with this vCPU's APIC ID,
     * the hypervisor bit (without it Linux finds no kvm-clock and stalls calibrating the TSC),
     * KVM's paravirt leaves kept as KVM offers them, and leaf 0xD limited to the XSAVE components
     * whose enabling jvmm can predict ({@link XsaveCpuid}).
     */
    public static CpuidEntries cpuidFor(CpuidEntries supported, int id, int count) {
        CpuidEntries c = supported.copy();
        for (CpuidEntries.Entry e : c.entries()) {
            switch (e.function) {
                case 1 -> {
                    e.ebx = (e.ebx & 0x0000ffff) | (id << 24) | (Math.min(count, 255) << 16);
                    e.ecx |= 1 << 31;
                    if (count > 1) {
                        e.edx |= 1 << 28; // HTT: the count in EBX[23:16] is valid
                    }
                }
                case 0xb, 0x1f -> e.edx = id; // x2APIC ID in the extended topology leaves
                default -> { }
            }
        }
        XsaveCpuid.normalise(c);
        return c;
    }

    public static void configure(KvmVcpu vcpu, LongModeEntry entry, CpuidEntries supported, int count) {
        CpuidEntries cpuid = cpuidFor(supported, vcpu.id(), count);
        vcpu.setCpuid(cpuid);
        long xcr0 = XsaveCpuid.guestXcr0(cpuid);
        if (xcr0 != 0) {
            // XCR0 as the guest will set it, so KVM's XSAVE sizes and the XCR0 it loads on entry
            // are right even where the guest's XSETBV never reaches KVM (the lab: XsaveCpuid).
            vcpu.setXcr0(xcr0);
        }
        vcpu.setMsrs(new long[][] {
                {MSR_IA32_SYSENTER_CS, 0}, {MSR_IA32_SYSENTER_ESP, 0}, {MSR_IA32_SYSENTER_EIP, 0},
                {MSR_STAR, 0}, {MSR_CSTAR, 0}, {MSR_KERNEL_GS_BASE, 0}, {MSR_SYSCALL_MASK, 0}, {MSR_LSTAR, 0},
                {MSR_IA32_TSC, 0}, {MSR_IA32_MISC_ENABLE, 1}, {MSR_MTRR_DEF_TYPE, (1 << 11) | 6},
        });
        vcpu.initFpu();
        vcpu.initLapicLints();
        if (vcpu.id() == 0) {
            setLongMode(vcpu, entry);
            long[] regs = new long[18];
            regs[4] = entry.rsi(); // rsi: zero page
            regs[6] = entry.rsp(); // rsp
            regs[7] = entry.rsp(); // rbp
            regs[16] = entry.rip();
            regs[17] = 0x2; // rflags: reserved bit 1
            vcpu.setRegs(regs);
        }
        // Application processors stay in their reset state until the BSP sends INIT/SIPI.
    }

    /** Flat 64-bit segments, identity paging and EFER.LME|LMA. */
    public static void setLongMode(KvmVcpu vcpu, LongModeEntry entry) {
        ByteBuffer s = vcpu.getSregs();
        putSegment(s, CS, LongModeEntry.CODE_SELECTOR, 0xb, true, true);
        for (int seg : new int[] {DS, ES, FS, GS, SS}) {
            putSegment(s, seg, LongModeEntry.DATA_SELECTOR, 0x3, true, false);
        }
        putSegment(s, TR, LongModeEntry.TSS_SELECTOR, 0xb, false, false);
        s.putLong(GDT_OFF, entry.gdtBase()).putShort(GDT_OFF + 8, (short) entry.gdtLimit());
        s.putLong(IDT_OFF, entry.idtBase()).putShort(IDT_OFF + 8, (short) entry.idtLimit());
        s.putLong(CR0_OFF, CR0_PE | CR0_ET | CR0_PG);
        s.putLong(CR3_OFF, entry.pml4());
        s.putLong(CR4_OFF, CR4_PAE);
        s.putLong(EFER_OFF, EFER_LME | EFER_LMA);
        vcpu.setSregs(s);
    }

    private static void putSegment(ByteBuffer s, int index, int selector, int type, boolean codeOrData, boolean code) {
        int o = index * SEG_SIZE;
        s.putLong(o, 0);                       // base
        s.putInt(o + 8, 0xffffffff);           // limit (granularity 4K, so all of it)
        s.putShort(o + 12, (short) selector);
        s.put(o + 14, (byte) type);
        s.put(o + 15, (byte) 1);               // present
        s.put(o + 16, (byte) 0);               // dpl
        s.put(o + 17, (byte) (codeOrData && !code ? 1 : 0)); // db: 32-bit data; 0 for 64-bit code
        s.put(o + 18, (byte) (codeOrData ? 1 : 0)); // s: code/data, not system (TSS)
        s.put(o + 19, (byte) (code ? 1 : 0));  // l: 64-bit code
        s.put(o + 20, (byte) 1);               // g
        s.put(o + 21, (byte) 0);               // avl
        s.put(o + 22, (byte) 0);               // unusable
    }

    /** Real mode at 0:{@code ip}, for tiny test guests. */
    public static void setRealMode(KvmVcpu vcpu, int ip) {
        ByteBuffer s = vcpu.getSregs();
        s.putLong(CS * SEG_SIZE, 0);
        s.putShort(CS * SEG_SIZE + 12, (short) 0);
        vcpu.setSregs(s);
        long[] regs = new long[18];
        regs[16] = ip;
        regs[17] = 0x2;
        vcpu.setRegs(regs);
    }
}
