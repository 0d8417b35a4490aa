package dev.jvmm.images.disk;

/**
 * A KERN-x partition that carries jvmm's header magic but out-of-range fields: damaged, not
 * empty, so callers refuse the slot instead of skipping it. The message names the field.
 */
public final class KernHeaderException extends Exception {
    public KernHeaderException(String message) {
        super(message);
    }
}
