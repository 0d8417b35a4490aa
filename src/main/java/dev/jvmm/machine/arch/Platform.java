package dev.jvmm.machine.arch;

import dev.jvmm.devices.platform.PlatformPage;
import dev.jvmm.vmm.bus.Bus;
import dev.jvmm.vmm.vcpu.StopReason;

import java.io.OutputStream;
import java.util.function.Consumer;

/**
 * What an architecture's fixed devices are given by the builder: the buses to sit on, where the
 * console's bytes go, whom the platform page tells, and how a guest's power-off or reset stops
 * the VM. The architecture decides where each device sits and which interrupt it raises.
 */
public record Platform(Bus pio, Bus mmio, OutputStream console, PlatformPage.Events page, Consumer<StopReason> stop) {
    /**
     * What a device calls when the guest powers off or resets through it: stops the VM with
     * {@code kind} and {@code detail}. An inner class rather than a lambda, as everywhere a VM
     * starts: the first lambda of a JVM links invokedynamic (most of a second in the lab).
     */
    public Runnable stopping(StopReason.Kind kind, String detail) {
        StopReason reason = StopReason.of(kind, detail);
        return new Runnable() {
            @Override
            public void run() {
                stop.accept(reason);
            }
        };
    }
}
