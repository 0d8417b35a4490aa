package dev.jvmm.machine;

import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.QueueNotifier;
import dev.jvmm.devices.virtio.VirtioDevice;
import dev.jvmm.devices.virtio.blk.BlockDevice;
import dev.jvmm.devices.virtio.blk.BlockFile;
import dev.jvmm.devices.virtio.net.NetDevice;
import dev.jvmm.devices.virtio.net.TapBackend;
import dev.jvmm.devices.virtio.rng.RngDevice;
import dev.jvmm.devices.virtio.rng.Urandom;
import dev.jvmm.devices.virtio.vsock.VsockDevice;
import dev.jvmm.machine.arch.Board;
import dev.jvmm.machine.arch.Placed;
import dev.jvmm.machine.arch.VirtioPlacer;
import dev.jvmm.vmm.bus.Bus;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.sys.Tap;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The virtio devices a config asks for, in three steps the builder takes at different times:
 * {@link #open} their host sides (files, TAPs, sockets: a device the host cannot provide fails
 * here, in one line); {@link #place} them through the architecture's allocator (in the order
 * drives, nets, vsock, rng), which gives the list the guest's firmware description is made
 * from; and {@link #wire} each to its virtio-mmio transport and interrupt once the interrupt
 * controller takes them.
 */
public final class VirtioSetup implements AutoCloseable {
    private final PrintStream log;
    private final List<VirtioDevice> devices = new ArrayList<>();
    private final List<Placed> placed = new ArrayList<>();
    private final List<MmioTransport> transports = new ArrayList<>();

    private VirtioSetup(PrintStream log) {
        this.log = log;
    }

    /** Opens the host side of every device in {@code spec}; on failure closes those opened. */
    public static VirtioSetup open(DeviceSpecs.Devices spec, PrintStream log) throws DeviceSetupException {
        VirtioSetup s = new VirtioSetup(log);
        try {
            int blkIndex = 0;
            for (DeviceSpecs.Drive d : spec.drives()) {
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
                s.devices.add(new BlockDevice(name, file, d.serial() != null ? d.serial() : name, d.fences()));
            }
            for (int i = 0; i < spec.nets().size(); i++) {
                DeviceSpecs.Net n = spec.nets().get(i);
                TapBackend tap;
                try {
                    tap = TapBackend.open(n.tap());
                } catch (Tap.TapException e) {
                    throw new DeviceSetupException("--net " + n.spec() + ": " + e.getMessage());
                }
                s.devices.add(new NetDevice("net" + i, n.mac() != null ? n.mac() : DeviceSpecs.defaultMac(i), tap));
            }
            if (spec.vsock() != null) {
                try {
                    s.devices.add(VsockDevice.open(spec.vsock().cid(), spec.vsock().uds()));
                } catch (IOException e) {
                    throw new DeviceSetupException("--vsock " + spec.vsock().spec() + ": " + e.getMessage());
                }
            }
            if (spec.rng()) {
                s.devices.add(new RngDevice(new Urandom()));
            }
        } catch (DeviceSetupException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** Places every device with the board's allocator (window and interrupt); returns the placements in order. */
    public List<Placed> place(VirtioPlacer allocator) {
        if (!placed.isEmpty()) {
            throw new IllegalStateException("the devices are placed once");
        }
        for (int i = 0; i < devices.size(); i++) {
            placed.add(allocator.placeVirtio("virtio-mmio device " + i + " (" + devices.get(i).name() + ")"));
        }
        return List.copyOf(placed);
    }

    /** Makes each placed device's transport over {@code memory}, raising the interrupt the board gives it. */
    public void wire(GuestMemory memory, Board lines) {
        if (placed.size() != devices.size() || !transports.isEmpty()) {
            throw new IllegalStateException("the devices are wired once, after they are placed");
        }
        for (int i = 0; i < devices.size(); i++) {
            transports.add(new MmioTransport(devices.get(i), memory, lines.virtioInterrupt(placed.get(i)), reports));
        }
    }

    /** Where a transport's one-line reports (a driver's broken rule) go. An inner class: see Platform.stopping. */
    private final Consumer<String> reports = new Consumer<String>() {
        @Override
        public void accept(String msg) {
            log.println("\r\njvmm: " + msg + "\r");
        }
    };

    /** A notifier over an ioeventfd that {@code vm} registers for each queue of each device. */
    public QueueNotifier notifier(KvmVm vm, Consumer<Throwable> fatal) {
        List<QueueNotifier.Target> targets = new ArrayList<>();
        for (int i = 0; i < transports.size(); i++) {
            MmioTransport t = transports.get(i);
            for (int q = 0; q < t.device().queueCount(); q++) {
                int queue = q;
                targets.add(new QueueNotifier.Target(vm.ioeventfd(placed.get(i).base() + MmioTransport.notifyOffset(), q),
                        t.device().name() + " queue " + q, new Runnable() {
                            @Override
                            public void run() {
                                t.notifyQueue(queue);
                            }
                        }));
            }
        }
        return new QueueNotifier(targets, fatal);
    }

    public void insertInto(Bus mmio) {
        for (int i = 0; i < transports.size(); i++) {
            mmio.insert(transports.get(i), placed.get(i).base(), placed.get(i).size());
        }
    }

    /** Per-device counters, by device name, in the order the devices were created. */
    public Map<String, Map<String, Long>> metrics() {
        Map<String, Map<String, Long>> m = new LinkedHashMap<>();
        for (VirtioDevice d : devices) {
            m.put(d.name(), d.metrics().snapshot());
        }
        return m;
    }

    @Override
    public void close() {
        for (VirtioDevice d : devices) {
            d.close();
        }
    }
}
