package dev.jvmm.machine;

import dev.jvmm.boot.acpi.AcpiTables;
import dev.jvmm.boot.x86.X86Layout;
import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.VirtioDevice;
import dev.jvmm.devices.virtio.blk.BlockDevice;
import dev.jvmm.devices.virtio.blk.BlockFile;
import dev.jvmm.devices.virtio.rng.RngDevice;
import dev.jvmm.devices.virtio.rng.Urandom;
import dev.jvmm.vmm.bus.Bus;
import dev.jvmm.vmm.irq.InterruptLine;
import dev.jvmm.vmm.memory.GuestMemory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Creates the virtio devices a config asks for, each on its own virtio-mmio window from
 * 0xC000_1000 up with its own interrupt, and describes them to the guest both ways: the
 * {@code virtio_mmio.device=} command line (as Firecracker does) and LNRO0005 devices in the DSDT.
 */
public final class VirtioSetup implements AutoCloseable {
    /** One device as placed: where its registers are and which interrupt it raises. */
    public record Placed(MmioTransport transport, long base, int gsi) {}

    private final List<Placed> placed = new ArrayList<>();

    private VirtioSetup() {}

    public static VirtioSetup create(DeviceSpecs.Devices devices, GuestMemory memory, IntFunction<InterruptLine> lines,
                                     PrintStream log) throws DeviceSetupException {
        VirtioSetup s = new VirtioSetup();
        try {
            int blkIndex = 0;
            for (DeviceSpecs.Drive d : devices.drives()) {
                String name = d.id() != null ? d.id() : "blk" + blkIndex;
                blkIndex++;
                boolean ro = Boolean.TRUE.equals(d.readOnly());
                BlockFile file;
                try {
                    file = BlockFile.open(d.path(), ro);
                } catch (AccessDeniedException e) {
                    throw new DeviceSetupException("--drive " + d.path() + ": " + e.getReason());
                } catch (IOException e) {
                    throw new DeviceSetupException("--drive " + d.path() + ": " + e.getMessage());
                }
                s.add(new BlockDevice(name, file, d.serial() != null ? d.serial() : name, d.fences()), memory, lines, log);
            }
            for (int i = 0; i < devices.nets().size(); i++) {
                DeviceSpecs.Net n = devices.nets().get(i);
                dev.jvmm.devices.virtio.net.TapBackend tap;
                try {
                    tap = dev.jvmm.devices.virtio.net.TapBackend.open(n.tap());
                } catch (dev.jvmm.vmm.sys.Tap.TapException e) {
                    throw new DeviceSetupException("--net " + n.spec() + ": " + e.getMessage());
                }
                s.add(new dev.jvmm.devices.virtio.net.NetDevice("net" + i, n.mac() != null ? n.mac() : DeviceSpecs.defaultMac(i), tap),
                        memory, lines, log);
            }
            if (devices.vsock() != null) {
                try {
                    s.add(dev.jvmm.devices.virtio.vsock.VsockDevice.open(devices.vsock().cid(), devices.vsock().uds()), memory, lines, log);
                } catch (IOException e) {
                    throw new DeviceSetupException("--vsock " + devices.vsock().spec() + ": " + e.getMessage());
                }
            }
            if (devices.rng()) {
                s.add(new RngDevice(new Urandom()), memory, lines, log);
            }
        } catch (DeviceSetupException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void add(VirtioDevice device, GuestMemory memory, IntFunction<InterruptLine> lines, PrintStream log) {
        int i = placed.size();
        int gsi = Vm.VIRTIO_GSIS[i];
        long base = X86Layout.VIRTIO_MMIO_START + (long) i * MmioTransport.SIZE;
        MmioTransport t = new MmioTransport(device, memory, lines.apply(gsi), msg -> log.println("\r\njvmm: " + msg + "\r"));
        placed.add(new Placed(t, base, gsi));
    }

    public List<Placed> placed() {
        return placed;
    }

    public void insertInto(Bus mmio) {
        for (Placed p : placed) {
            mmio.insert(p.transport(), p.base(), MmioTransport.SIZE);
        }
    }

    /** The {@code virtio_mmio.device=4K@0xc0001000:5} words for the kernel command line. */
    public String cmdline() {
        StringBuilder b = new StringBuilder();
        for (Placed p : placed) {
            b.append(b.length() == 0 ? "" : " ").append(String.format("virtio_mmio.device=4K@0x%x:%d", p.base(), p.gsi()));
        }
        return b.toString();
    }

    public List<AcpiTables.MmioDevice> acpiDevices() {
        return placed.stream().map(p -> new AcpiTables.MmioDevice(p.base(), MmioTransport.SIZE, p.gsi())).toList();
    }

    /** Per-device counters, by device name, in the order the devices were created. */
    public java.util.Map<String, java.util.Map<String, Long>> metrics() {
        java.util.Map<String, java.util.Map<String, Long>> m = new java.util.LinkedHashMap<>();
        for (Placed p : placed) {
            m.put(p.transport().device().name(), p.transport().device().metrics().snapshot());
        }
        return m;
    }

    @Override
    public void close() {
        for (Placed p : placed) {
            p.transport().device().close();
        }
    }
}
