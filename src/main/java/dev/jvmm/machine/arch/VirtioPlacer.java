package dev.jvmm.machine.arch;

/** The allocator's side of a {@link Board}: a virtio device's window and interrupt, by the device's name. */
@FunctionalInterface
public interface VirtioPlacer {
    Placed placeVirtio(String owner);
}
