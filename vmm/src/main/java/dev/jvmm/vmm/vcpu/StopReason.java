package dev.jvmm.vmm.vcpu;

/** Why a VM stopped. {@code code} is meaningful for {@link Kind#EXIT_REGISTER}. */
public record StopReason(Kind kind, int code, String detail) {
    public enum Kind {
        /** The guest wrote a status byte to the platform exit register. */
        EXIT_REGISTER,
        /** ACPI S5 (poweroff) or KVM's shutdown system event. */
        POWER_OFF,
        /** Guest asked for a reset (i8042 0xFE, ACPI reset, KVM reset event). */
        RESET,
        /** A triple fault: KVM_EXIT_SHUTDOWN. */
        TRIPLE_FAULT,
        /** The --timeout ran out. */
        TIMEOUT,
        /** KVM or jvmm failed (internal error, failed entry, exception in a device). */
        ERROR,
        /** The user asked to quit (escape key, signal). */
        USER_QUIT
    }

    public static StopReason of(Kind kind, String detail) {
        return new StopReason(kind, 0, detail);
    }

    public static StopReason exitRegister(int code) {
        return new StopReason(Kind.EXIT_REGISTER, code, "guest wrote " + code + " to the exit register");
    }
}
