package dev.jvmm.machine;

import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.images.disk.DiskImage;
import dev.jvmm.images.disk.Lz4;
import dev.jvmm.images.firmware.Firmware;
import dev.jvmm.images.firmware.FirmwareException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * `jvmm boot IMAGE`'s checks on the host, before any lab or KVM work: the image (a compressed
 * one through the drive cache, as a scratch copy the boot may write) must pass a firmware pass
 * that writes nothing, and an --update-from image must open. A bad image fails here in one line
 * and is left as it was.
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
        Firmware.inspect(disk);
        if (updateFrom != null) {
            if (!Files.exists(updateFrom)) {
                throw new DeviceSetupException("--update-from " + updateFrom + ": no such file");
            }
            if (Files.isRegularFile(updateFrom) && Lz4.isLz4(updateFrom)) {
                updateFrom = Drives.resolve(new DeviceSpecs.Drive(updateFrom, true, null, null), log).path();
            }
            DiskImage.open(updateFrom);
        }
        return new MachineConfig(null, null, append == null ? "" : append, memoryMib, cpus, timeoutSeconds, timeline, true,
                devices, metrics, new ImageSpec(disk, exec, updateFrom, maxBoots, note));
    }
}
