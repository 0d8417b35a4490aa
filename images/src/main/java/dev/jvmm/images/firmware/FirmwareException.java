package dev.jvmm.images.firmware;

/**
 * Why a firmware pass boots nothing: a damaged disk, a slot whose kernel or configuration cannot
 * be read, or no slot the A/B rules allow. {@link #noBootableSlot()} tells the last apart, since
 * jvmm gives it an exit status of its own.
 */
public final class FirmwareException extends Exception {
    private final boolean noBootableSlot;

    public FirmwareException(String message) {
        this(message, false);
    }

    FirmwareException(String message, boolean noBootableSlot) {
        super(message);
        this.noBootableSlot = noBootableSlot;
    }

    public boolean noBootableSlot() {
        return noBootableSlot;
    }
}
