package dev.jvmm.boot.grub;

import dev.jvmm.boot.grub.Lexer.Token;
import dev.jvmm.boot.grub.Lexer.Type;
import dev.jvmm.boot.grub.Syntax.Command;
import dev.jvmm.boot.grub.Syntax.Word;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * GRUB's command grammar (grub-core/script/parser.y) without control flow: commands are words
 * ended by a newline or ';', and a command may end in a { } block on its own line (menuentry,
 * submenu). if/for/while/until/function are refused, not skipped, because guessing past them
 * could boot the wrong kernel. Blocks nest at most {@value #MAX_NESTING} deep, so a hostile
 * file cannot exhaust the stack.
 */
final class Parser {
    static final int MAX_NESTING = 16;
    private static final Set<String> CONTROL = Set.of("if", "for", "while", "until", "function", "case", "select", "time",
            "[[", "]]");
    private static final Set<String> RESERVED = Set.of("then", "else", "elif", "fi", "do", "done", "esac", "in");

    private final List<Token> tokens;
    private int i;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Command> parse(String cfg) throws GrubException {
        return new Parser(Lexer.tokens(cfg)).commands(0, -1);
    }

    private static GrubException error(int line, String what) {
        return new GrubException("grub.cfg line " + line + ": " + what);
    }

    /** Commands up to EOF (top level) or up to the '}' closing a block opened on line openLine (not consumed). */
    private List<Command> commands(int depth, int openLine) throws GrubException {
        List<Command> out = new ArrayList<>();
        while (true) {
            Token t = tokens.get(i);
            switch (t.type()) {
                case NEWLINE, SEMI -> i++;
                case EOF -> {
                    if (openLine > 0) {
                        throw error(openLine, "unbalanced braces: '{' is never closed");
                    }
                    return out;
                }
                case RBRACE -> {
                    if (openLine < 0) {
                        throw error(t.line(), "unbalanced braces: '}' closes nothing");
                    }
                    return out;
                }
                case LBRACE -> throw error(t.line(), "'{' must end the line of the command it belongs to");
                case OPERATOR -> throw error(t.line(), "operator '" + t.text() + "' is not supported");
                case WORD -> out.add(command(depth));
                default -> throw error(t.line(), "unexpected " + t.type());
            }
        }
    }

    private Command command(int depth) throws GrubException {
        Token first = tokens.get(i);
        String raw = first.word().raw();
        if (CONTROL.contains(raw)) {
            throw error(first.line(), "'" + raw + "' is not supported (this interpreter runs no control flow)");
        }
        if (RESERVED.contains(raw)) {
            throw error(first.line(), "unexpected '" + raw + "'");
        }
        List<Word> words = new ArrayList<>();
        while (tokens.get(i).type() == Type.WORD) {
            words.add(tokens.get(i++).word());
        }
        List<Command> block = null;
        if (tokens.get(i).type() == Type.LBRACE) {
            int open = tokens.get(i++).line();
            if (depth + 1 > MAX_NESTING) {
                throw error(open, "blocks nested more than " + MAX_NESTING + " deep");
            }
            block = commands(depth + 1, open);
            i++; // the '}'
            if (block.isEmpty()) {
                throw error(open, "empty { } block");
            }
            Type after = tokens.get(i).type();
            if (after != Type.NEWLINE && after != Type.SEMI && after != Type.EOF && after != Type.RBRACE) {
                throw error(tokens.get(i).line(), "unexpected text after '}'");
            }
        }
        return new Command(words, block, first.line());
    }
}
