package dev.jvmm.bootbench;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the peer VMMs' files are: on a host, Debian's QEMU and the floor from jvmm's cache; in
 * the lab's L1, where {@link PeerArchive} put them.
 *
 * @param qemu         qemu-system-x86_64
 * @param qemuFirmware the directory QEMU gets with -L (microvm's BIOS, qboot)
 * @param floor        the floorvmm binary
 */
public record PeerPaths(Path qemu, Path qemuFirmware, Path floor) {
    public static final Path HOST_QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    public static final Path HOST_QEMU_FIRMWARE = Path.of("/usr/share/qemu");
    /** In L1: QEMU where it is on the host (its libraries too), the rest under /peers. */
    public static final PeerPaths IN_LAB = new PeerPaths(HOST_QEMU, Path.of("/peers/qemu-firmware"),
            Path.of("/peers/floorvmm"));

    /** One line naming the first file a peer needs that is not there, or null when all are. */
    public String missing(PeerVmm vmm) {
        Path need = vmm == PeerVmm.QEMU ? qemu : floor;
        if (!Files.isExecutable(need)) {
            return need + " is missing or not executable";
        }
        if (vmm == PeerVmm.QEMU && !Files.isRegularFile(qemuFirmware.resolve(PeerArchive.MICROVM_BIOS))) {
            return "no " + PeerArchive.MICROVM_BIOS + " in " + qemuFirmware;
        }
        return null;
    }
}
