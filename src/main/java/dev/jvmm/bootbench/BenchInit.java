package dev.jvmm.bootbench;

import dev.jvmm.images.GuestPlatform;
import dev.jvmm.images.initramfs.BusyboxInitramfs;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The guest userland of a bench boot, the same for every VMM: a busybox initramfs whose /init
 * does as little as it can before reporting ready, then tells every kind of VMM to stop in the
 * way it understands (jvmm and the floor: the exit register; QEMU microvm: ACPI poweroff).
 */
public final class BenchInit {
    /**
     * /init: /proc for the uptime, the init line (its start, for a quiet kernel that prints no
     * "Run /init"), devtmpfs for /dev/mem, then the ready line (the time the bench measures), the
     * Firecracker boot-timer byte, the stopping line, the exit register, and {@code poweroff -f}
     * for a VMM that ignores the platform page (QEMU microvm: its ACPI GED takes the S5 sleep
     * request; without ACPI the kernel would only halt). The platform page is where the command
     * line's {@code jvmm.platform=} says (jvmm and the floor name it; QEMU does not, and gets no
     * write), read with shell builtins only. Busybox applets are called by path: no {@code
     * --install}, so no symlinks to make before the ready line.
     */
    public static final String SCRIPT = """
            #!/bin/sh
            # jvmm bench init: report ready with the guest's uptime, then stop the VMM, whichever it is.
            /bin/busybox mount -t proc proc /proc
            read up idle < /proc/uptime
            echo "%s$up"
            /bin/busybox mount -t devtmpfs devtmpfs /dev
            read up idle < /proc/uptime
            echo "%s$up"
            %sjvmm_ready
            echo "%s"
            jvmm_exit 0
            /bin/busybox poweroff -f
            """.formatted(BenchConsole.INIT_MARKER, BenchConsole.READY_MARKER, GuestPlatform.shell("/bin/busybox devmem"),
            BenchConsole.STOPPING_MARKER);

    private BenchInit() {}

    /** Builds (or reuses) the bench initramfs in jvmm's cache; returns its path. */
    public static Path buildCached() throws IOException, InterruptedException {
        return BusyboxInitramfs.buildCached(SCRIPT);
    }
}
