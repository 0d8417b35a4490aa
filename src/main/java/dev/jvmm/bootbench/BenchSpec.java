package dev.jvmm.bootbench;

import java.nio.file.Path;
import java.util.List;

/**
 * What jvmm bench boot measures: one guest (a kernel with its initrd and command line, or a
 * container-OS image), the machine's size, how many runs, and which VMMs besides jvmm. Every VMM
 * boots exactly this; runs interleave (jvmm, qemu, floor, jvmm, ...) so a drift in the host's
 * speed falls on all of them alike.
 *
 * @param kernel    bzImage or vmlinux (null for an image)
 * @param initrd    the initramfs, or null
 * @param cmdline   the whole kernel command line (kernel boots)
 * @param image     a container-OS image (null for a kernel boot); QEMU and the floor cannot boot it
 * @param compare   other VMMs to run beside jvmm: "qemu", "floor"
 * @param timeoutSeconds a run that is not over by then fails
 * @param unpackKernel jvmm loads a bzImage's kernel unpacked (its default); false: its guest runs
 *                  the bzImage's decompressor, as QEMU's and the floor's do
 */
public record BenchSpec(Path kernel, Path initrd, String cmdline, Path image, int memoryMib, int cpus, int runs,
                        int warmup, List<String> compare, int timeoutSeconds, boolean unpackKernel) {
    public BenchSpec {
        if ((kernel == null) == (image == null)) {
            throw new IllegalArgumentException("give an IMAGE or --kernel, not both and not neither");
        }
        if (runs < 1 || runs > 10_000) {
            throw new IllegalArgumentException("--runs must be between 1 and 10000, not " + runs);
        }
        if (warmup < 0 || warmup > 1000) {
            throw new IllegalArgumentException("--warmup must be between 0 and 1000, not " + warmup);
        }
        for (String c : compare) {
            if (!c.equals("qemu") && !c.equals("floor")) {
                throw new IllegalArgumentException("--compare takes qemu and floor, not " + c);
            }
        }
        if (compare.contains("floor") && cpus != 1) {
            throw new IllegalArgumentException("the floor VMM runs one vCPU; --cpus " + cpus + " needs --compare qemu only");
        }
        if (compare.contains("floor") && memoryMib > 3072) {
            throw new IllegalArgumentException("the floor VMM maps RAM below the 3 GiB hole only: --mem at most 3072 with floor");
        }
        if (image != null && !compare.isEmpty()) {
            throw new IllegalArgumentException("QEMU and the floor VMM cannot boot a whole image without firmware;"
                    + " compare them on the image's kernel (--kernel) instead");
        }
        compare = List.copyOf(compare);
    }

    public int totalRuns() {
        return (runs + warmup) * (1 + compare.size());
    }
}
