package dev.jvmm.machine;

/** A device flag names something the host cannot provide: a missing drive file, a TAP jvmm may not open. */
public final class DeviceSetupException extends Exception {
    public DeviceSetupException(String message) {
        super(message);
    }
}
