package dev.jvmm.boot.grub;

import java.util.List;

/** The parsed form of a grub.cfg: commands of words, each word a run of quoted and unquoted parts. */
final class Syntax {
    private Syntax() {}

    /** How a part of a word was written, which decides how it expands. */
    enum Kind {
        /** Unquoted text, backslash escapes already resolved. */
        TEXT,
        /** Text inside single or double quotes: kept as is, and makes the word exist even when empty. */
        QUOTED,
        /** An unquoted $name: its value is split into words at blanks. */
        VAR,
        /** A $name inside double quotes: its value stays one piece. */
        DQVAR
    }

    record Part(Kind kind, String text) {}

    /** A word; raw is its source text, used to recognise reserved words. */
    record Word(List<Part> parts, String raw) {}

    /** A command line: its words, the { } block that ends it (or null), and where it starts. */
    record Command(List<Word> words, List<Command> block, int line) {
        Command {
            words = List.copyOf(words);
            block = block == null ? null : List.copyOf(block);
        }
    }
}
