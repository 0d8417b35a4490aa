package dev.jvmm.boot.grub;

import java.util.ArrayList;
import java.util.List;

/**
 * How the Linux kernel splits its command line (lib/cmdline.c next_arg): a parameter may be
 * wrapped in double quotes, quotes toggle "inside" so blanks there do not split, and the quotes
 * around a value are dropped. The test's witness of what the kernel will see; no unescaping,
 * since the kernel does none.
 */
final class LinuxCmdline {
    /** One parameter; value is null for a bare word. */
    record Param(String name, String value) {}

    private LinuxCmdline() {}

    static List<Param> parse(String cmdline) {
        List<Param> out = new ArrayList<>();
        String args = skipSpaces(cmdline);
        while (!args.isEmpty()) {
            boolean quoted = false;
            boolean inQuote = false;
            if (args.charAt(0) == '"') {
                args = args.substring(1);
                inQuote = true;
                quoted = true;
            }
            int equals = -1;
            int i = 0;
            for (; i < args.length(); i++) {
                char c = args.charAt(i);
                if (isSpace(c) && !inQuote) {
                    break;
                }
                if (equals < 0 && c == '=') {
                    equals = i;
                }
                if (c == '"') {
                    inQuote = !inQuote;
                }
            }
            String word = args.substring(0, i);
            boolean valueQuoted = equals >= 0 && equals + 1 < word.length() && word.charAt(equals + 1) == '"';
            if ((quoted || valueQuoted) && word.length() > equals + 2 && word.endsWith("\"")) {
                word = word.substring(0, word.length() - 1); // the kernel drops one closing quote
            }
            if (equals < 0) {
                out.add(new Param(word, null));
            } else {
                out.add(new Param(word.substring(0, equals), word.substring(equals + 1 + (valueQuoted ? 1 : 0))));
            }
            args = skipSpaces(i < args.length() ? args.substring(i + 1) : "");
        }
        return out;
    }

    private static String skipSpaces(String s) {
        int i = 0;
        while (i < s.length() && isSpace(s.charAt(i))) {
            i++;
        }
        return s.substring(i);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
    }
}
