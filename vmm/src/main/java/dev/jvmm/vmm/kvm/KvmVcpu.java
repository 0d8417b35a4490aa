package dev.jvmm.vmm.kvm;

import dev.jvmm.vmm.sys.KvmIoctls;
import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;

/**
 * One vCPU fd and its shared kvm_run page. The run page is read through a direct buffer at
 * fixed offsets: no struct marshalling on the exit path.
 */
public final class KvmVcpu implements AutoCloseable {
    private final int id;
    private final int fd;
    private final long runAddress;
    private final int runSize;
    private final ByteBuffer run;
    private final ByteBuffer regsBuf = Syscalls.struct(KvmIoctls.REGS_SIZE);
    private final ByteBuffer sregsBuf = Syscalls.struct(KvmIoctls.SREGS_SIZE);
    private boolean closed;

    KvmVcpu(int id, int fd, int runSize) {
        this.id = id;
        this.fd = fd;
        this.runSize = runSize;
        this.runAddress = Syscalls.mmapFile(fd, runSize, 0);
        this.run = Syscalls.view(runAddress, runSize);
    }

    public int id() {
        return id;
    }

    /** The kvm_run page, little-endian; offsets in {@link KvmIoctls}. */
    public ByteBuffer runPage() {
        return run;
    }

    /** Enters the guest; returns the exit reason, or -errno (EINTR when kicked). */
    public int run() {
        int r = Syscalls.ioctlNoThrow(fd, KvmIoctls.KVM_RUN, 0);
        return r < 0 ? r : run.getInt(KvmIoctls.RUN_EXIT_REASON);
    }

    /** Makes the next (or current, once signalled) KVM_RUN return at once. */
    public void setImmediateExit(boolean on) {
        run.put(KvmIoctls.RUN_IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    /** General registers in kvm_regs order: rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags. */
    public long[] getRegs() {
        Syscalls.ioctl(fd, KvmIoctls.KVM_GET_REGS, Syscalls.address(regsBuf), "KVM_GET_REGS");
        long[] r = new long[18];
        for (int i = 0; i < 18; i++) {
            r[i] = regsBuf.getLong(i * 8);
        }
        return r;
    }

    public void setRegs(long[] regs) {
        for (int i = 0; i < 18; i++) {
            regsBuf.putLong(i * 8, regs[i]);
        }
        Syscalls.ioctl(fd, KvmIoctls.KVM_SET_REGS, Syscalls.address(regsBuf), "KVM_SET_REGS");
    }

    /** The raw kvm_sregs, read from KVM; change it and pass it to {@link #setSregs}. */
    public ByteBuffer getSregs() {
        Syscalls.ioctl(fd, KvmIoctls.KVM_GET_SREGS, Syscalls.address(sregsBuf), "KVM_GET_SREGS");
        return sregsBuf;
    }

    public void setSregs(ByteBuffer sregs) {
        Syscalls.ioctl(fd, KvmIoctls.KVM_SET_SREGS, Syscalls.address(sregs), "KVM_SET_SREGS");
    }

    public void setCpuid(CpuidEntries cpuid) {
        ByteBuffer b = cpuid.toKvm();
        Syscalls.ioctl(fd, KvmIoctls.KVM_SET_CPUID2, Syscalls.address(b), "KVM_SET_CPUID2");
    }

    /**
     * Sets XCR0 (KVM_SET_XCRS). Call after {@link #setCpuid}: KVM accepts only components the
     * vCPU's CPUID leaf 0xD offers.
     */
    public void setXcr0(long value) {
        ByteBuffer b = Syscalls.struct(KvmIoctls.XCRS_SIZE);
        b.putInt(0, 1);
        b.putInt(KvmIoctls.XCRS_FIRST_XCR, 0);
        b.putLong(KvmIoctls.XCRS_FIRST_VALUE, value);
        Syscalls.ioctl(fd, KvmIoctls.KVM_SET_XCRS, Syscalls.address(b), "KVM_SET_XCRS");
    }

    /** XCR0 as KVM holds it for this vCPU (KVM_GET_XCRS). */
    public long getXcr0() {
        ByteBuffer b = Syscalls.struct(KvmIoctls.XCRS_SIZE);
        Syscalls.ioctl(fd, KvmIoctls.KVM_GET_XCRS, Syscalls.address(b), "KVM_GET_XCRS");
        int n = b.getInt(0);
        for (int i = 0; i < n && i < 16; i++) {
            if (b.getInt(KvmIoctls.XCRS_FIRST_XCR + i * 16) == 0) {
                return b.getLong(KvmIoctls.XCRS_FIRST_VALUE + i * 16);
            }
        }
        throw new KvmException("KVM_GET_XCRS returned no XCR0");
    }

    /** Writes MSRs given as (index, value) pairs; fails unless KVM accepts every one. */
    public void setMsrs(long[][] msrs) {
        ByteBuffer b = Syscalls.struct(8 + msrs.length * KvmIoctls.MSR_ENTRY_SIZE);
        b.putInt(0, msrs.length);
        for (int i = 0; i < msrs.length; i++) {
            int o = 8 + i * KvmIoctls.MSR_ENTRY_SIZE;
            b.putInt(o, (int) msrs[i][0]).putLong(o + 8, msrs[i][1]);
        }
        int done = Syscalls.ioctl(fd, KvmIoctls.KVM_SET_MSRS, Syscalls.address(b), "KVM_SET_MSRS");
        if (done != msrs.length) {
            throw new KvmException(String.format("KVM_SET_MSRS set %d of %d MSRs (refused: 0x%x)",
                    done, msrs.length, msrs[done][0]));
        }
    }

    /** x87 control word and MXCSR to their reset values, as the boot protocol expects. */
    public void initFpu() {
        ByteBuffer b = Syscalls.struct(KvmIoctls.FPU_SIZE);
        b.putShort(128, (short) 0x37f);
        b.putInt(408, 0x1f80);
        Syscalls.ioctl(fd, KvmIoctls.KVM_SET_FPU, Syscalls.address(b), "KVM_SET_FPU");
    }

    /** Local APIC LINT0 as ExtINT and LINT1 as NMI, the wiring of a PC. */
    public void initLapicLints() {
        ByteBuffer b = Syscalls.struct(1024);
        Syscalls.ioctl(fd, KvmIoctls.KVM_GET_LAPIC, Syscalls.address(b), "KVM_GET_LAPIC");
        int lvt0 = b.getInt(0x350);
        int lvt1 = b.getInt(0x360);
        b.putInt(0x350, (lvt0 & ~0x700) | (7 << 8));
        b.putInt(0x360, (lvt1 & ~0x700) | (4 << 8));
        Syscalls.ioctl(fd, KvmIoctls.KVM_SET_LAPIC, Syscalls.address(b), "KVM_SET_LAPIC");
    }

    /** arm64 KVM_ARM_VCPU_INIT with {target, features[0..6]} (from KVM_ARM_PREFERRED_TARGET, features added). */
    public void armInit(int[] init) {
        if (init.length != 8) {
            throw new IllegalArgumentException("struct kvm_vcpu_init has 8 words, not " + init.length);
        }
        ByteBuffer b = Syscalls.struct(32);
        for (int i = 0; i < 8; i++) {
            b.putInt(4 * i, init[i]);
        }
        Syscalls.ioctl(fd, KvmIoctls.KVM_ARM_VCPU_INIT, Syscalls.address(b), "KVM_ARM_VCPU_INIT");
    }

    /** KVM_SET_ONE_REG of a 64-bit register. */
    public void setOneReg(long id, long value) {
        ByteBuffer v = Syscalls.struct(8).putLong(0, value);
        ByteBuffer r = Syscalls.struct(16);
        r.putLong(0, id).putLong(8, Syscalls.address(v));
        Syscalls.ioctl(fd, KvmIoctls.KVM_SET_ONE_REG, Syscalls.address(r), String.format("KVM_SET_ONE_REG 0x%x", id));
    }

    /** KVM_GET_ONE_REG of a 64-bit register. */
    public long getOneReg(long id) {
        ByteBuffer v = Syscalls.struct(8);
        ByteBuffer r = Syscalls.struct(16);
        r.putLong(0, id).putLong(8, Syscalls.address(v));
        Syscalls.ioctl(fd, KvmIoctls.KVM_GET_ONE_REG, Syscalls.address(r), String.format("KVM_GET_ONE_REG 0x%x", id));
        return v.getLong(0);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Syscalls.munmap(runAddress, runSize);
        Syscalls.close(fd);
    }
}
