package dev.jvmm.images;

import dev.jvmm.boot.PlatformWord;

/**
 * The guest side of the platform page, for the shell scripts jvmm puts in guests (the images'
 * init, the default and bench initramfs inits, test inits): the page's address comes from the
 * {@code jvmm.platform=} word the board adds to the kernel command line, so one script serves
 * every architecture (x86_64's page is at 0xc0000000, aarch64's at 0x40000000) and writes
 * nothing under a VMM that names no page. Only shell builtins before the writes: no process is
 * started, which a boot-time measurement would count.
 */
public final class GuestPlatform {
    /** The lines with {@code devmem} as the write command (busybox installed as applets). */
    public static final String SHELL = shell("devmem");

    private GuestPlatform() {}

    /**
     * Shell (POSIX: busybox ash, dash) that reads /proc/cmdline (mounted before it) into
     * {@code jvmm_platform} (empty without the word, or with a value that is not hex) and defines
     * {@code jvmm_ready} (the boot-timer byte 123) and {@code jvmm_exit N} (the exit register),
     * each writing through {@code devmem} (e.g. {@code /bin/busybox devmem}).
     */
    public static String shell(String devmem) {
        String key = PlatformWord.KEY;
        return """
                # jvmm's platform page, where the command line's %1$s= puts it (boot timer at +0, exit register at +0x10)
                read -r jvmm_platform < /proc/cmdline
                jvmm_platform=" $jvmm_platform "
                case $jvmm_platform in
                  *" %1$s=0x"*) jvmm_platform=${jvmm_platform##* %1$s=}; jvmm_platform=${jvmm_platform%%%% *} ;;
                  *) jvmm_platform= ;;
                esac
                case $jvmm_platform in 0x|0x*[!0-9a-fA-F]*) jvmm_platform= ;; esac
                jvmm_ready() { [ -z "$jvmm_platform" ] || %2$s "$jvmm_platform" 8 123; }
                jvmm_exit() { [ -z "$jvmm_platform" ] || %2$s $((jvmm_platform + 16)) 8 "$1"; }
                """.formatted(key, devmem);
    }
}
