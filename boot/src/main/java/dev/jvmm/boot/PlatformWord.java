package dev.jvmm.boot;

/**
 * The kernel command-line word that tells a guest where jvmm's platform page is
 * ({@code jvmm.platform=0xc0000000} on x86_64, {@code 0x40000000} on aarch64): the boot timer at
 * +0 and the exit register at +0x10. The board that places the page writes the word, so guest
 * scripts and programs read the address from /proc/cmdline instead of knowing each
 * architecture's map, as {@code virtio_mmio.device=} words name virtio windows. A dotted word
 * no module owns is ignored by the kernel and not passed to init.
 */
public final class PlatformWord {
    public static final String KEY = "jvmm.platform";

    private PlatformWord() {}

    /** {@code jvmm.platform=0x40000000}. */
    public static String word(long address) {
        return KEY + "=0x" + Long.toHexString(address);
    }

    /**
     * {@code cmdline} with the word for {@code address} added: at the end, or before a bare
     * {@code --} outside double quotes, since the kernel hands the words after it to init.
     */
    public static String addTo(String cmdline, long address) {
        String w = word(address);
        boolean quoted = false;
        int start = -1;
        for (int i = 0; i <= cmdline.length(); i++) {
            char c = i < cmdline.length() ? cmdline.charAt(i) : ' ';
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ' ' && !quoted) {
                if (start >= 0 && i - start == 2 && cmdline.startsWith("--", start)) {
                    String before = cmdline.substring(0, start);
                    return before + w + " " + cmdline.substring(start);
                }
                start = -1;
            } else if (start < 0) {
                start = i;
            }
        }
        return cmdline.isBlank() ? w : cmdline + " " + w;
    }
}
