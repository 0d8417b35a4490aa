package dev.jvmm.machine.arch;

import dev.jvmm.boot.x86.UnpackedKernel;

/**
 * What the guest runs: kernel and initrd bytes (initrd null for none) and the command line as
 * the user or the image's boot loader made it; the architecture adds the words its devices need.
 * {@code unpackedKernel}, if not null, is the kernel proper inside the bzImage {@code kernel}
 * (dev.jvmm.machine.UnpackedKernels), which x86 loads in its place.
 */
public record Payload(byte[] kernel, byte[] initrd, String cmdline, UnpackedKernel unpackedKernel) {
    public Payload(byte[] kernel, byte[] initrd, String cmdline) {
        this(kernel, initrd, cmdline, null);
    }

    public Payload withUnpackedKernel(UnpackedKernel unpacked) {
        return new Payload(kernel, initrd, cmdline, unpacked);
    }
}
