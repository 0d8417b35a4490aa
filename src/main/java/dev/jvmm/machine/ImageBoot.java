package dev.jvmm.machine;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.devices.virtio.blk.FencedRange;
import dev.jvmm.images.firmware.BootChoice;
import dev.jvmm.images.firmware.Firmware;
import dev.jvmm.images.firmware.FirmwareException;
import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Payload;
import dev.jvmm.vmm.sys.DiskLock;
import dev.jvmm.vmm.vcpu.StopReason;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An image boot as a machine does it: firmware pass, build, run, and on a guest reboot (reboot,
 * panic=N, dm-verity restart_on_corruption) close and do it again on the same disk, up to
 * --max-boots passes. The disk is /dev/vda, read-write, fenced over the booted slot's
 * partitions; the guest agent's readiness marks the slot successful ({@link GuestSession}). The
 * disk is locked exclusively for the whole run, so the firmware's writes between passes are
 * covered too, not only the device's (the device's own lock is shared with this one).
 */
public final class ImageBoot {
    private final MachineConfig config;
    private final ImageSpec image;
    private final Timeline timeline;
    private final PrintStream err;
    private final List<Pass> passes = new ArrayList<>();

    public ImageBoot(MachineConfig config, Timeline timeline, PrintStream err) {
        this.config = config;
        this.image = config.image();
        this.timeline = timeline;
        this.err = err;
    }

    /** Every pass so far, for --metrics and the summary line. */
    public List<Pass> passes() {
        return List.copyOf(passes);
    }

    /** Runs passes until the guest powers off, exits, fails for good or the passes run out; returns jvmm's status. */
    public int run(InputStream stdin, OutputStream stdout) throws KernelLoadException, DeviceSetupException,
            InterruptedException, IOException {
        DeviceSpecs.Devices devices = GuestSession.withAgentSocket(config.devices());
        StopReason last = null;
        Map<String, Map<String, Long>> lastMetrics = Map.of();
        DiskLock lock;
        try {
            lock = DiskLock.acquire(image.disk(), true);
        } catch (IOException e) {
            throw new DeviceSetupException("image " + e.getMessage());
        }
        try (lock; GuestSession session = GuestSession.open(image, devices.vsock().uds(), err)) {
            timeline.mark("agent readiness socket listening");
            for (int n = 1; n <= image.maxBoots(); n++) {
                Timeline tl = timeline.forPass(n);
                BootChoice choice;
                try {
                    choice = Firmware.pass(image.disk());
                } catch (FirmwareException e) {
                    say("boot " + n + ": " + e.getMessage());
                    return e.noBootableSlot() ? ExitCodes.NO_BOOTABLE_SLOT : n == 1 ? ExitCodes.USAGE : ExitCodes.INTERNAL_ERROR;
                }
                tl.mark("firmware pass (GPT, slot " + choice.slot() + ", kernel read)");
                Arch kernelArch = Architectures.ofKernel(choice.kernel(), config.arch());
                if (kernelArch != config.arch()) {
                    // Only a slot written from an image of another architecture: jvmm's own updates refuse one.
                    say("boot " + n + ": slot " + choice.slot() + " holds an " + kernelArch + " kernel; this machine is "
                            + config.arch());
                    return ExitCodes.INTERNAL_ERROR;
                }
                if (choice.gptNote() != null) {
                    say(choice.gptNote());
                }
                if (n == 1 && image.note() != null) {
                    say(image.note());
                }
                say(choice.describe(n));
                Pass pass = new Pass(n, choice, tl);
                passes.add(pass);
                session.beginPass(pass);
                MachineConfig passConfig = config.withDevices(withDisk(devices, choice), null);
                Vm vm = Vm.build(passConfig, payload(choice), tl, err, pass, stdin, stdout);
                try {
                    session.attach(vm);
                    last = vm.run();
                } finally {
                    session.detach();
                    vm.close();
                    tl.guestResident(vm.guestResidentBytes());
                    lastMetrics = vm.metrics();
                }
                pass.ended(last);
                if (last.kind() != StopReason.Kind.RESET && !(last.kind() == StopReason.Kind.TIMEOUT && session.retryAfterTimeout(pass))) {
                    break;
                }
            }
            if (last != null && (last.kind() == StopReason.Kind.ERROR || last.kind() == StopReason.Kind.TRIPLE_FAULT)) {
                say(last.detail());
            }
            int status = session.exitStatus(last, passes, image.maxBoots());
            summary();
            return status;
        } finally {
            MetricsFile.write(config.metricsFile(), last, lastMetrics, passes.stream().map(Pass::toJson).toList(), err);
        }
    }

    /** The image as /dev/vda, read-write, fenced over the booted slot; then the user's own drives. */
    private DeviceSpecs.Devices withDisk(DeviceSpecs.Devices devices, BootChoice choice) {
        List<FencedRange> fences = choice.protectedRanges().stream()
                .map(r -> new FencedRange(r.name(), r.firstSector(), r.lastSector())).toList();
        List<DeviceSpecs.Drive> drives = new ArrayList<>();
        drives.add(new DeviceSpecs.Drive(image.disk(), false, "disk", "jvmm-image", fences));
        drives.addAll(devices.drives());
        return new DeviceSpecs.Devices(drives, devices.nets(), devices.vsock(), devices.rng(), devices.discovery());
    }

    private Payload payload(BootChoice choice) {
        // With --exec the agent is the way in: the image's init starts no shell on the console.
        String own = image.exec() != null ? choice.cmdline() + " jvmm.shell=0" : choice.cmdline();
        String cmdline = config.cmdline().isBlank() ? own : own + " " + config.cmdline();
        return new Payload(choice.kernel(), null, cmdline);
    }

    private void say(String line) {
        err.println("\r\njvmm: " + line + "\r");
    }

    private void summary() {
        StringBuilder b = new StringBuilder("passes:");
        for (Pass p : passes) {
            b.append(' ').append(p.number()).append('=').append(p.choice().slot()).append(':').append(p.outcome());
        }
        say(b.toString());
    }
}
