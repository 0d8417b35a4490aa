package dev.jvmm.boot.arm64;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.fdt.DeviceTree;
import dev.jvmm.vmm.memory.GuestMemory;

/**
 * Where an arm64 kernel, its initrd and its device tree go in guest RAM, decided before anything
 * is written (the device tree names the initrd's place, so it is built between planning and
 * loading). The rules are booting.rst's:
 * <ul>
 * <li>the Image at text_offset above a 2 MiB aligned base; jvmm uses the start of RAM, since a
 *     kernel without the "place anywhere" flag cannot use memory below its base;</li>
 * <li>the device tree 8-byte aligned and at most 2 MiB: jvmm gives it a 2 MiB block of its own,
 *     so no other data shares the block the kernel maps for it;</li>
 * <li>the initrd "entirely within a 1 GB aligned physical memory window of up to 32 GB in size
 *     that fully covers the kernel Image as well": the window is [RAM base, RAM base + 32 GiB).</li>
 * </ul>
 * Device tree and initrd sit at the top of that window's RAM, the initrd just below the device
 * tree, leaving everything above the kernel to it, as Firecracker does.
 *
 * @param kernelStart the Image's first byte, which is also its entry point (code0)
 * @param kernelEnd kernelStart + image_size: memory the kernel owns from the start
 * @param initrdStart page aligned; equal to initrdEnd when there is no initrd
 * @param dtbAddress 2 MiB aligned; the value of x0 at entry
 */
public record Arm64LoadPlan(long kernelStart, long kernelEnd, long initrdStart, long initrdEnd, long dtbAddress) {
    /** The 32 GiB window booting.rst allows the initrd, counted from the 1 GiB aligned RAM base. */
    public static final long INITRD_WINDOW = 32 * Arm64Layout.GIB;
    public static final long DTB_BLOCK = 2 * Arm64Layout.MIB;

    public long entry() {
        return kernelStart;
    }

    /**
     * Plans a kernel and an initrd of {@code initrdSize} bytes (0 for none) into RAM at
     * [{@code ramBase}, {@code ramBase + ramSize}); refuses what does not fit, in one line.
     */
    public static Arm64LoadPlan plan(long ramBase, long ramSize, Arm64Image image, long initrdSize)
            throws KernelLoadException {
        if (ramBase % Arm64Layout.GIB != 0 || ramSize <= 0 || ramSize > Arm64Layout.IPA_LIMIT - ramBase) {
            throw new KernelLoadException(String.format("RAM at 0x%x of 0x%x bytes is not a 1 GiB aligned range inside "
                    + "the 40-bit guest address space", ramBase, ramSize));
        }
        if (initrdSize < 0) {
            throw new KernelLoadException("initrd size " + initrdSize + " is negative");
        }
        long kernelStart = ramBase + image.textOffset();
        long kernelEnd = kernelStart + image.imageSize();
        long top = ramBase + Math.min(ramSize, INITRD_WINDOW);
        long dtb = (top - DTB_BLOCK) & -DTB_BLOCK;
        long initrdStart = (dtb - initrdSize) & -Arm64Layout.PAGE;
        if (initrdSize > dtb - ramBase || initrdStart < kernelEnd) {
            long needed = alignUp(kernelEnd - ramBase, Arm64Layout.PAGE) + alignUp(initrdSize, Arm64Layout.PAGE)
                    + DTB_BLOCK;
            throw new KernelLoadException(String.format("the kernel (image_size %d KiB), initrd (%d KiB) and device tree "
                    + "(2 MiB) need %d MiB of guest RAM%s; the guest has %d MiB", image.imageSize() >> 10, initrdSize >> 10,
                    alignUp(needed, Arm64Layout.MIB) >> 20, ramSize > INITRD_WINDOW ? " in the first 32 GiB" : "",
                    ramSize >> 20));
        }
        return new Arm64LoadPlan(kernelStart, kernelEnd, initrdStart, initrdStart + initrdSize, dtb);
    }

    /**
     * Writes the Image, the initrd and the device tree where planned. Everything is checked
     * first, so a refusal leaves guest memory as it was.
     */
    public void load(GuestMemory mem, Arm64Image image, byte[] initrd, byte[] dtb) throws KernelLoadException {
        int initrdLength = initrd == null ? 0 : initrd.length;
        if (initrdLength != initrdEnd - initrdStart) {
            throw new KernelLoadException("initrd is " + initrdLength + " bytes; the plan was made for "
                    + (initrdEnd - initrdStart));
        }
        if (dtb.length > DeviceTree.MAX_DTB_BYTES) {
            throw new KernelLoadException("device tree is " + dtb.length + " bytes; arm64 kernels take at most 2 MiB");
        }
        if (!mem.contains(kernelStart, kernelEnd - kernelStart) || !mem.contains(dtbAddress, DTB_BLOCK)
                || !mem.contains(initrdStart, initrdEnd - initrdStart)) {
            throw new KernelLoadException(String.format("load plan (kernel 0x%x-0x%x, initrd 0x%x-0x%x, device tree 0x%x) "
                    + "lies outside guest RAM", kernelStart, kernelEnd, initrdStart, initrdEnd, dtbAddress));
        }
        mem.write(kernelStart, image.image());
        if (initrdLength > 0) {
            mem.write(initrdStart, initrd);
        }
        mem.write(dtbAddress, dtb);
    }

    private static long alignUp(long v, long a) {
        return (v + a - 1) & -a;
    }
}
