package dev.jvmm.boot.grub;

import dev.jvmm.boot.grub.Syntax.Kind;
import dev.jvmm.boot.grub.Syntax.Part;
import dev.jvmm.boot.grub.Syntax.Word;

import java.util.ArrayList;
import java.util.List;

/**
 * GRUB's script lexer (grub-core/script/yylex.l) by hand: blanks separate words; newline and
 * ';' end commands; '{' '}' are always tokens; '#' starts a comment only where a word would
 * start; single quotes are literal; inside double quotes only \$ \" \\ and backslash-newline
 * are escapes and $var expands; unquoted, a backslash escapes the next character and
 * backslash-newline joins lines. A '$' must name a variable: $name, ${name}, $1, $#, $?, $*, $@.
 */
final class Lexer {
    enum Type { WORD, NEWLINE, SEMI, LBRACE, RBRACE, OPERATOR, EOF }

    record Token(Type type, Word word, String text, int line) {}

    private static final String WORD_END = " \t\n;|&<>{}";

    private final String s;
    private int pos;
    private int line = 1;

    private Lexer(String s) {
        this.s = s;
    }

    static List<Token> tokens(String source) throws GrubException {
        Lexer lx = new Lexer(source);
        List<Token> out = new ArrayList<>();
        Token t;
        do {
            t = lx.next();
            out.add(t);
        } while (t.type() != Type.EOF);
        return out;
    }

    private GrubException error(int at, String what) {
        return new GrubException("grub.cfg line " + at + ": " + what);
    }

    private Token next() throws GrubException {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == ' ' || c == '\t') {
                pos++;
            } else if (c == '\\' && pos + 1 < s.length() && s.charAt(pos + 1) == '\n') {
                pos += 2;
                line++;
            } else if (c == '#') {
                while (pos < s.length() && s.charAt(pos) != '\n') {
                    pos++;
                }
            } else {
                break;
            }
        }
        if (pos >= s.length()) {
            return new Token(Type.EOF, null, "", line);
        }
        char c = s.charAt(pos);
        int at = line;
        switch (c) {
            case '\n':
                pos++;
                line++;
                return new Token(Type.NEWLINE, null, "\n", at);
            case '{':
                pos++;
                return new Token(Type.LBRACE, null, "{", at);
            case '}':
                pos++;
                return new Token(Type.RBRACE, null, "}", at);
            case ';', '|', '&', '<', '>':
                boolean twice = pos + 1 < s.length() && s.charAt(pos + 1) == c && c != '<' && c != '>';
                String op = twice ? "" + c + c : "" + c;
                pos += op.length();
                return new Token(op.equals(";") ? Type.SEMI : Type.OPERATOR, null, op, at);
            default:
                return word();
        }
    }

    private Token word() throws GrubException {
        int start = pos;
        int at = line;
        List<Part> parts = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        while (pos < s.length() && WORD_END.indexOf(s.charAt(pos)) < 0) {
            char c = s.charAt(pos);
            if (c == '\\') {
                if (pos + 1 == s.length()) {
                    text.append('\\');
                    pos++;
                } else if (s.charAt(pos + 1) == '\n') {
                    pos += 2;
                    line++;
                } else {
                    text.append(s.charAt(pos + 1));
                    pos += 2;
                }
            } else if (c == '\'') {
                flush(parts, text);
                int close = s.indexOf('\'', pos + 1);
                if (close < 0) {
                    throw error(line, "unterminated single quote");
                }
                String inside = s.substring(pos + 1, close);
                line += (int) inside.chars().filter(ch -> ch == '\n').count();
                parts.add(new Part(Kind.QUOTED, inside));
                pos = close + 1;
            } else if (c == '"') {
                flush(parts, text);
                doubleQuoted(parts);
            } else if (c == '$') {
                flush(parts, text);
                parts.add(new Part(Kind.VAR, variable()));
            } else {
                text.append(c);
                pos++;
            }
        }
        flush(parts, text);
        return new Token(Type.WORD, new Word(parts, s.substring(start, pos)), s.substring(start, pos), at);
    }

    private void doubleQuoted(List<Part> parts) throws GrubException {
        int open = line;
        pos++;
        StringBuilder q = new StringBuilder();
        parts.add(new Part(Kind.QUOTED, "")); // "" alone is still a (empty) word
        while (true) {
            if (pos >= s.length()) {
                throw error(open, "unterminated double quote");
            }
            char c = s.charAt(pos);
            char n = pos + 1 < s.length() ? s.charAt(pos + 1) : 0;
            if (c == '"') {
                pos++;
                break;
            } else if (c == '\\' && (n == '$' || n == '"' || n == '\\')) {
                q.append(n);
                pos += 2;
            } else if (c == '\\' && n == '\n') {
                pos += 2;
                line++;
            } else if (c == '$') {
                parts.add(new Part(Kind.QUOTED, q.toString()));
                q.setLength(0);
                parts.add(new Part(Kind.DQVAR, variable()));
            } else {
                if (c == '\n') {
                    line++;
                }
                q.append(c);
                pos++;
            }
        }
        parts.add(new Part(Kind.QUOTED, q.toString()));
    }

    /** The name after a '$' at pos: NAME, DIGITS or one of ? # * @, bare or in braces. */
    private String variable() throws GrubException {
        pos++;
        boolean braced = pos < s.length() && s.charAt(pos) == '{';
        int from = braced ? pos + 1 : pos;
        int end = from;
        if (end < s.length() && "?#*@".indexOf(s.charAt(end)) >= 0) {
            end++;
        } else if (end < s.length() && s.charAt(end) >= '0' && s.charAt(end) <= '9') {
            while (end < s.length() && s.charAt(end) >= '0' && s.charAt(end) <= '9') {
                end++;
            }
        } else if (end < s.length() && isNameStart(s.charAt(end))) {
            while (end < s.length() && (isNameStart(s.charAt(end)) || (s.charAt(end) >= '0' && s.charAt(end) <= '9'))) {
                end++;
            }
        }
        if (end == from || (braced && (end >= s.length() || s.charAt(end) != '}'))) {
            throw error(line, "'$' is not followed by a variable name");
        }
        pos = braced ? end + 1 : end;
        return s.substring(from, end);
    }

    private static boolean isNameStart(char c) {
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static void flush(List<Part> parts, StringBuilder text) {
        if (text.length() > 0) {
            parts.add(new Part(Kind.TEXT, text.toString()));
            text.setLength(0);
        }
    }
}
