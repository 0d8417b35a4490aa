package dev.jvmm.boot.ext4;

/** An ext4 image that is damaged, hostile or uses a feature this reader refuses; the message says what and where. */
public final class Ext4Exception extends Exception {
    public Ext4Exception(String message) {
        super(message);
    }
}
