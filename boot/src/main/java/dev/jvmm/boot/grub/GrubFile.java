package dev.jvmm.boot.grub;

/**
 * A file as a GRUB command names it: {@code (device)/path}, or {@code /path} on $root.
 *
 * @param word   the argument as GRUB passed it, after expansion, e.g. {@code (hd0,gpt3)/vmlinuz}
 * @param device the GRUB device, from the parentheses or else $root; null when neither is set
 * @param path   the absolute path on that device
 */
public record GrubFile(String word, String device, String path) {
    /** Splits a file argument as GRUB's file opening does; root is the $root in force. */
    static GrubFile parse(String word, String root, String what) throws GrubException {
        String device = root;
        String path = word;
        if (word.startsWith("(")) {
            int close = word.indexOf(')');
            if (close < 0) {
                throw new GrubException(what + ": missing ')' in " + word);
            }
            if (close > 1) {
                device = word.substring(1, close);
            }
            path = word.substring(close + 1);
        }
        if (!path.startsWith("/")) {
            throw new GrubException(what + ": file name " + word + " is not an absolute path");
        }
        return new GrubFile(word, device, path);
    }
}
