package dev.jvmm.images.disk;

import dev.jvmm.images.HostTools;

import java.util.List;

/** The Debian tools the image builder runs. */
final class Tools {
    static final List<HostTools.Requirement> NEEDS = List.of(
            new HostTools.Requirement("/usr/sbin/mkfs.ext4", "e2fsprogs"),
            new HostTools.Requirement("/usr/sbin/debugfs", "e2fsprogs"),
            new HostTools.Requirement("/usr/bin/mkfs.erofs", "erofs-utils"),
            new HostTools.Requirement("/bin/busybox", "busybox-static"),
            new HostTools.Requirement("/usr/bin/gcc", "gcc"),
            new HostTools.Requirement("/usr/lib/x86_64-linux-gnu/libc.a", "libc6-dev"));

    private Tools() {}
}
