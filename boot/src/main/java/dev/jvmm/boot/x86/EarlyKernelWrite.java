package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;

/**
 * An unpacked kernel's segments written into guest memory on a thread of their own. The write
 * begins as soon as the memory exists, while the VMM goes on to register it with KVM and to
 * create the devices and vCPUs. The ~11 MB read and checksum were 8.5 ms of a bzImage boot's
 * 13 ms "kernel loaded" phase on a lent 16-core machine, and they no longer wait for that work.
 *
 * <p>{@link X86Loader} waits for the write at the point where it would have written the
 * segments itself, and gets its outcome: a damaged cache file is refused there, as before, with
 * its segments zeroed again. The placement checks run before the thread starts, so the loader
 * never refuses a kernel that was already written. Closing also waits for the write, so guest
 * memory is never unmapped under it. The thread catches everything and hands it to the loader.
 */
public final class EarlyKernelWrite implements AutoCloseable {
    private final UnpackedKernel kernel;
    private final GuestMemory memory;
    private final Thread thread;
    /** What the write threw (read after join). */
    private Throwable failure;

    private EarlyKernelWrite(UnpackedKernel kernel, GuestMemory memory) {
        this.kernel = kernel;
        this.memory = memory;
        this.thread = new Thread(new Runnable() { // not a lambda: see Vm on start-up
            @Override
            public void run() {
                try {
                    kernel.write(memory);
                } catch (Throwable t) {
                    failure = t;
                }
            }
        }, "kernel-load");
        thread.setDaemon(true);
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
        EarlyKernelWrite write = new EarlyKernelWrite(kernel, memory);
        kernel.writingEarly(write);
        write.thread.start();
        return write;
    }

    boolean writes(GuestMemory mem) {
        return memory == mem;
    }

    /** Waits for the write; throws what it threw. */
    void await() throws KernelLoadException {
        joinUninterruptibly();
        Throwable t = failure;
        if (t instanceof KernelLoadException e) {
            throw e;
        }
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException("the kernel's early write failed", t);
        }
    }

    private void joinUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the write is tens of milliseconds at most; memory must outlive it
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for the write to end, whatever its outcome (the VM's teardown, before memory goes). */
    @Override
    public void close() {
        joinUninterruptibly();
    }
}
