package dev.jvmm.machine.arch;

/**
 * What the guest runs: kernel and initrd bytes (initrd null for none) and the command line as
 * the user or the image's boot loader made it; the architecture adds the words its devices need.
 */
public record Payload(byte[] kernel, byte[] initrd, String cmdline) {}
