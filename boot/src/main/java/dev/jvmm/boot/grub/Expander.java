package dev.jvmm.boot.grub;

import dev.jvmm.boot.grub.Syntax.Kind;
import dev.jvmm.boot.grub.Syntax.Part;
import dev.jvmm.boot.grub.Syntax.Word;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a command's words into GRUB's argv (grub_script_arglist_to_argv, GRUB 2.06): quoted
 * parts are kept whole and make a word exist even when empty; an unquoted $var is split at
 * blanks (leading and trailing blanks dropped, no empty words); an undefined or empty variable
 * alone yields no word. Positional parameters ($1, $#, $*, $@) are the menu entry's arguments.
 * An expansion is refused past {@value #MAX_BYTES} bytes or {@value #MAX_WORDS} words.
 */
final class Expander {
    static final int MAX_BYTES = 64 * 1024;
    static final int MAX_WORDS = 4096;

    private final Env env;
    private final List<String> positional;
    private final int line;
    private final List<String> out = new ArrayList<>();
    private StringBuilder cur;
    private long bytes;

    private Expander(Env env, List<String> positional, int line) {
        this.env = env;
        this.positional = positional;
        this.line = line;
    }

    /** positional is null outside a menu entry. */
    static List<String> expand(List<Word> words, Env env, List<String> positional, int line) throws GrubException {
        Expander x = new Expander(env, positional, line);
        for (Word w : words) {
            x.word(w);
        }
        return x.out;
    }

    private void word(Word w) throws GrubException {
        cur = null;
        for (Part p : w.parts()) {
            switch (p.kind()) {
                case TEXT -> {
                    if (!p.text().isEmpty()) {
                        append(p.text());
                    }
                }
                case QUOTED -> append(p.text());
                case VAR, DQVAR -> {
                    boolean quoted = p.kind() == Kind.DQVAR;
                    List<String> pieces = values(p.text(), quoted);
                    for (int k = 0; k < pieces.size(); k++) {
                        if (k > 0 && cur != null) {
                            emit();
                        }
                        append(pieces.get(k));
                    }
                }
                default -> throw new IllegalStateException(p.kind().toString());
            }
        }
        if (cur != null) {
            emit();
        }
    }

    private void append(String s) throws GrubException {
        if (cur == null) {
            cur = new StringBuilder();
        }
        bytes += s.length();
        if (bytes > MAX_BYTES) {
            throw new GrubException("grub.cfg line " + line + ": command expands to more than " + MAX_BYTES + " bytes");
        }
        cur.append(s);
    }

    private void emit() throws GrubException {
        if (out.size() >= MAX_WORDS) {
            throw new GrubException("grub.cfg line " + line + ": command expands to more than " + MAX_WORDS + " words");
        }
        out.add(cur.toString());
        cur = null;
    }

    /** The pieces a variable contributes; each piece after the first starts a new word. */
    private List<String> values(String name, boolean quoted) {
        char c = name.charAt(0);
        List<String> pieces = new ArrayList<>();
        if (c >= '0' && c <= '9') {
            int n = name.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(name);
            if (positional != null && n >= 1 && n <= positional.size()) {
                add(pieces, positional.get(n - 1), quoted);
            }
        } else if (c == '#') {
            if (positional != null) {
                pieces.add(Integer.toString(positional.size()));
            }
        } else if (c == '*' && quoted) {
            if (positional != null && !positional.isEmpty()) {
                pieces.add(String.join(" ", positional));
            }
        } else if (c == '*' || c == '@') {
            for (String a : positional == null ? List.<String>of() : positional) {
                add(pieces, a, quoted);
            }
        } else if (c == '?') {
            pieces.add("0"); // every command this interpreter runs succeeds
        } else {
            String v = env.get(name);
            if (v != null && !v.isEmpty()) {
                add(pieces, v, quoted);
            }
        }
        return pieces;
    }

    private static void add(List<String> pieces, String v, boolean quoted) {
        if (quoted) {
            pieces.add(v);
        } else {
            pieces.addAll(split(v));
        }
    }

    /** grub_script_argv_split_append: words separated by runs of blanks, none empty. */
    static List<String> split(String v) {
        List<String> words = new ArrayList<>();
        int i = 0;
        while (i < v.length()) {
            while (i < v.length() && isSpace(v.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < v.length() && !isSpace(v.charAt(i))) {
                i++;
            }
            if (i > start) {
                words.add(v.substring(start, i));
            }
        }
        return words;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }
}
