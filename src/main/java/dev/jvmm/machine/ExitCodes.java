package dev.jvmm.machine;

import dev.jvmm.vmm.vcpu.StopReason;

/**
 * jvmm's exit status. A guest's own status (exit register) passes through as is; the other
 * outcomes use codes a guest is unlikely to choose, documented in README and --help.
 */
public final class ExitCodes {
    private ExitCodes() {}

    public static final int POWER_OFF = 0;
    /** An image check failed or an A/B rule refused the command (jvmm image ...). */
    public static final int CHECK_FAILED = 1;
    /** Bad arguments, unreadable kernel or initrd: jvmm's own usage errors. */
    public static final int USAGE = 2;
    public static final int RESET = 64;
    public static final int TRIPLE_FAULT = 65;
    /** An image boot: the firmware found no slot its A/B rules allow (each slot's bits are printed). */
    public static final int NO_BOOTABLE_SLOT = 66;
    /** An image boot: the guest rebooted on every one of --max-boots passes. */
    public static final int MAX_BOOTS = 67;
    /** An image boot with --update-from: the new slot failed and the old one booted instead. */
    public static final int UPDATE_ROLLED_BACK = 68;
    /** KVM or jvmm failed while the guest ran, or the host lacks what is needed. */
    public static final int INTERNAL_ERROR = 70;
    /** --timeout ran out, as timeout(1) reports it. */
    public static final int TIMEOUT = 124;
    /** Ctrl-A x or a signal ended the VM. */
    public static final int USER_QUIT = 130;

    public static final String HELP = """
            Exit status:
              N    the guest wrote N to the exit register (devmem 0xc0000010 8 N; aarch64 0x40000010: the page the
                   command line's jvmm.platform= names, +0x10); with --exec, the command's status
              0    the guest powered off (poweroff -f, ACPI S5)
              2    bad arguments, or an unreadable/invalid kernel, initrd, command line or image
              64   the guest reset or rebooted (reboot -f, i8042 or ACPI reset)
              65   a vCPU triple-faulted
              66   (image boot) no bootable slot: every slot's priority/tries/successful forbid it
              67   (image boot) the guest rebooted on each of --max-boots passes
              68   (image boot, --update-from) the new slot failed; the image fell back to the old one
              70   KVM or jvmm failed while the guest ran (message on stderr)
              124  --timeout expired
              130  Ctrl-A x or a signal stopped the VM
              1    (jvmm image) a check failed or an A/B rule refused the command""";

    public static int of(StopReason reason) {
        return switch (reason.kind()) {
            case EXIT_REGISTER -> reason.code();
            case POWER_OFF -> POWER_OFF;
            case RESET -> RESET;
            case TRIPLE_FAULT -> TRIPLE_FAULT;
            case TIMEOUT -> TIMEOUT;
            case ERROR -> INTERNAL_ERROR;
            case USER_QUIT -> USER_QUIT;
        };
    }
}
