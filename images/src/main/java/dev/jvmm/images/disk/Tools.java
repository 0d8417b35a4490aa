package dev.jvmm.images.disk;

import dev.jvmm.images.HostTools;

import java.util.List;

/** The Debian tools the image builder runs. */
final class Tools {
    static final List<HostTools.Requirement> NEEDS = List.of(
            new HostTools.Requirement("/usr/sbin/mkfs.ext4", "e2fsprogs"),
            new HostTools.Requirement("/usr/sbin/debugfs", "e2fsprogs"),
            new HostTools.Requirement("/usr/bin/mkfs.erofs", "erofs-utils"));
    /** The host's busybox, for an image of the host's architecture (another's comes with its {@link ImageArch}). */
    static final HostTools.Requirement HOST_BUSYBOX = new HostTools.Requirement("/bin/busybox", "busybox-static");

    /** Everything an image for {@code arch} needs here. */
    static List<HostTools.Requirement> needs(ImageArch arch) {
        List<HostTools.Requirement> all = new java.util.ArrayList<>(NEEDS);
        if (arch.busybox().equals(java.nio.file.Path.of(HOST_BUSYBOX.path()))) {
            all.add(HOST_BUSYBOX);
        }
        all.addAll(arch.needs());
        return all;
    }

    private Tools() {}
}
