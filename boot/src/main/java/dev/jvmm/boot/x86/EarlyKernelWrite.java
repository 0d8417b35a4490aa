package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.SetupStep;

/**
 * An unpacked kernel's segments written into guest memory on a thread of their own (a {@link
 * SetupStep}). The write begins as soon as the memory exists, while the VMM goes on to create the
 * VM, register the memory with KVM and create the devices and vCPUs. The ~11 MB read and checksum
 * were 8.5 ms of a bzImage boot's 13 ms "kernel loaded" phase on a lent 16-core machine, and they
 * no longer wait for that work.
 *
 * <p>{@link X86Loader} waits for the write at the point where it would have written the
 * segments itself, and gets its outcome: a damaged cache file is refused there, as before, with
 * its segments zeroed again. The loader's placement and room checks run before the thread starts,
 * so the loader never refuses a kernel that was already written. Closing also waits for the
 * write, so guest memory is never unmapped under it.
 */
public final class EarlyKernelWrite implements AutoCloseable {
    private final GuestMemory memory;
    private final SetupStep<KernelLoadException> step;

    private EarlyKernelWrite(GuestMemory memory, SetupStep<KernelLoadException> step) {
        this.memory = memory;
        this.step = step;
    }

    /**
     * Checks {@code kernel} against the bzImage it came from and against {@code memory}, as the
     * loader will, then starts writing it. Throws what the loader would, before writing anything.
     */
    public static EarlyKernelWrite start(UnpackedKernel kernel, byte[] bzImage, GuestMemory memory)
            throws KernelLoadException {
        if (!(KernelImage.parse(bzImage) instanceof KernelImage.BzImage bz)) {
            throw new KernelLoadException("an unpacked kernel goes with a bzImage");
        }
        X86Loader.checkUnpacked(kernel, bz);
        X86Loader.checkSegments(memory, kernel.segments(), kernel.entry());
        X86Loader.checkInitSize(memory, bz);
        EarlyKernelWrite write = new EarlyKernelWrite(memory, SetupStep.start("kernel-load", true,
                new SetupStep.Action<KernelLoadException>() { // not a lambda: see SetupStep
                    @Override
                    public void run() throws KernelLoadException {
                        kernel.write(memory);
                    }
                }));
        kernel.writingEarly(write);
        return write;
    }

    boolean writes(GuestMemory mem) {
        return memory == mem;
    }

    /** Waits for the write; throws what it threw. */
    void await() throws KernelLoadException {
        step.await();
    }

    /** Waits for the write to end, whatever its outcome (the VM's teardown, before memory goes). */
    @Override
    public void close() {
        step.close();
    }
}
