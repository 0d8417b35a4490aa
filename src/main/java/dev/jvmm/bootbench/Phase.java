package dev.jvmm.bootbench;

import java.util.Arrays;
import java.util.Optional;

/**
 * The milestones of one boot, each measured in milliseconds from the VMM process's start (taken
 * by whoever started the process, on CLOCK_MONOTONIC, not from the coarse process start time the
 * kernel reports). Not every VMM has every phase: QEMU and the C floor have no "command parsed",
 * a kernel boot has no firmware pass or agent. The order here is the order a boot passes them.
 */
public enum Phase {
    JVM_MAIN("jvm-main", "JVM entered main"),
    PARSED("parsed", "command parsed"),
    VM_CREATED("vm-created", "VM created"),
    MEMORY_MAPPED("memory-mapped", "memory mapped"),
    FIRMWARE_PASS("firmware-pass", "firmware pass"),
    KERNEL_LOADED("kernel-loaded", "kernel loaded"),
    FIRST_KVM_RUN("first-kvm-run", "first KVM_RUN"),
    FIRST_CONSOLE_BYTE("first-console-byte", "first console byte"),
    RUN_INIT("run-init", "kernel: Run /init"),
    /**
     * The bench init's ready line as it comes out of the VMM's console, read and timed the same
     * way for every VMM; an image boot (no bench init) is ready when the guest writes jvmm's boot
     * timer.
     */
    READY("ready", "guest ready"),
    /** jvmm's boot timer: the bench init writes 123 to it right after its ready line (jvmm only). */
    BOOT_TIMER("boot-timer", "boot timer written"),
    AGENT_READY("agent-ready", "agent ready"),
    VM_STOPPED("vm-stopped", "VM stopped"),
    EXITED("exited", "process exited");

    /** The name in JSON and CSV. */
    public final String key;
    /** The name people read. */
    public final String label;

    Phase(String key, String label) {
        this.key = key;
        this.label = label;
    }

    public static Optional<Phase> ofKey(String key) {
        return Arrays.stream(values()).filter(p -> p.key.equals(key)).findFirst();
    }
}
