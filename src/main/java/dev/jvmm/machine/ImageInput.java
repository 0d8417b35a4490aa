package dev.jvmm.machine;

import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.images.disk.DiskImage;
import dev.jvmm.images.disk.Lz4;
import dev.jvmm.images.firmware.Firmware;
import dev.jvmm.images.firmware.FirmwareException;
import dev.jvmm.machine.arch.Arch;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * `jvmm boot IMAGE`'s checks on the host, before any lab or KVM work: the image (a compressed
 * one through the drive cache, as a scratch copy the boot may write) must pass a firmware pass
 * that writes nothing, whose kernel also says the machine's architecture, and an --update-from
 * image must open and be of the same architecture. A bad image fails here in one line and is
 * left as it was.
 */
public final class ImageInput {
    private ImageInput() {}

    public static MachineConfig config(Path image, Path updateFrom, String exec, int maxBoots, String append, int memoryMib,
                                       int cpus, int timeoutSeconds, boolean timeline, DeviceSpecs.Devices devices,
                                       Path metrics, PrintStream log)
            throws DeviceSetupException, FirmwareException, IOException, InterruptedException, GptException {
        Path disk = image;
        String note = null;
        if (!Files.isRegularFile(image) && !Files.exists(image)) {
            throw new DeviceSetupException("image " + image + ": no such file");
        }
        if (Files.isRegularFile(image) && Lz4.isLz4(image)) {
            disk = Drives.resolve(new DeviceSpecs.Drive(image, false, null, null), log).path();
            note = image + " is compressed: this boot runs on the scratch copy " + disk
                    + " (the tries decrement and the guest's writes land there; " + image.getFileName() + " is unchanged)";
        }
        // Everything the first pass will check, writing nothing; the pass itself reports a one-copy GPT.
        // The machine's architecture is its kernel's, as for a kernel boot: an arm64 image runs in the arm64 lab here.
        Arch arch = Architectures.ofKernel(Firmware.inspect(disk).kernel(), Arch.host());
        if (updateFrom != null) {
            if (!Files.exists(updateFrom)) {
                throw new DeviceSetupException("--update-from " + updateFrom + ": no such file");
            }
            if (Files.isRegularFile(updateFrom) && Lz4.isLz4(updateFrom)) {
                updateFrom = Drives.resolve(new DeviceSpecs.Drive(updateFrom, true, null, null), log).path();
            }
            DiskImage.open(updateFrom);
            String refusal = crossArchUpdate(arch, updateFrom);
            if (refusal != null) {
                throw new DeviceSetupException("--update-from " + refusal);
            }
        }
        return new MachineConfig(null, null, append == null ? "" : append, memoryMib, cpus, timeoutSeconds, timeline, true,
                devices, metrics, new ImageSpec(disk, exec, updateFrom, maxBoots, note), arch);
    }

    /**
     * Why writing {@code update}'s OS into an image whose kernel is for {@code arch} makes no
     * bootable slot (its kernel is for another architecture), in words; null when it is the same
     * architecture, or when no firmware pass would boot {@code update} (the update itself says why).
     */
    public static String crossArchUpdate(Arch arch, Path update) throws IOException {
        byte[] kernel;
        try {
            kernel = Firmware.inspect(update).kernel();
        } catch (FirmwareException e) {
            return null;
        }
        Arch other = Architectures.ofKernel(kernel, arch);
        return other == arch ? null : update + " is an " + other + " image and this one is " + arch
                + ": its slot would not boot here";
    }
}
