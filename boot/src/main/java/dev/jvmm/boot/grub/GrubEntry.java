package dev.jvmm.boot.grub;

import java.util.ArrayList;
import java.util.List;

/**
 * What booting a menu entry loads: the kernel, its arguments and the initrds, as the entry's
 * last {@code linux} and {@code initrd} commands left them.
 *
 * @param title      the entry's title ({@code submenu>entry} titles joined by '>')
 * @param kernel     the file {@code linux} loaded
 * @param kernelArgs the arguments after the kernel, one per GRUB word
 * @param initrds    the files of the last {@code initrd}, in order (empty when none)
 */
public record GrubEntry(String title, GrubFile kernel, List<String> kernelArgs, List<GrubFile> initrds) {
    public GrubEntry {
        kernelArgs = List.copyOf(kernelArgs);
        initrds = List.copyOf(initrds);
    }

    /** The kernel arguments as one command line, quoted as GRUB's loaders quote them. */
    public String cmdline() {
        return loaderCmdline(kernelArgs);
    }

    /**
     * The command line GRUB's x86 linux loader hands the kernel: {@code BOOT_IMAGE=} and the
     * kernel word, then the arguments (grub-core/loader/i386/linux.c).
     */
    public String bootImageCmdline() {
        List<String> argv = new ArrayList<>();
        argv.add(kernel.word());
        argv.addAll(kernelArgs);
        return "BOOT_IMAGE=" + loaderCmdline(argv);
    }

    /**
     * GRUB's grub_create_loader_cmdline: words joined by single spaces; a word holding a space
     * is wrapped in double quotes, and backslash, single and double quotes inside get a backslash.
     */
    static String loaderCmdline(List<String> words) {
        StringBuilder s = new StringBuilder();
        for (String w : words) {
            if (s.length() > 0) {
                s.append(' ');
            }
            boolean space = w.indexOf(' ') >= 0;
            if (space) {
                s.append('"');
            }
            for (int i = 0; i < w.length(); i++) {
                char c = w.charAt(i);
                if (c == '\\' || c == '\'' || c == '"') {
                    s.append('\\');
                }
                s.append(c);
            }
            if (space) {
                s.append('"');
            }
        }
        return s.toString();
    }
}
