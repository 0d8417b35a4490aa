package dev.jvmm.boot.grub;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * GRUB's shell-like language: quoting, expansion, word splitting, comments, continuations;
 * the syntax it refuses; and the bounds that keep a hostile grub.cfg cheap. The expected
 * words were checked against grub-emu 2.06 (echo of the same words).
 */
class GrubScriptTest {
    static final String VARS = """
            set x="a  b"
            set v="x y  "
            set w="  x"
            set s="   "
            set p='p\\q'
            zz=1
            """;

    /** The words linux receives after the kernel when the entry's line ends in words. */
    static List<String> words(String words) throws GrubException {
        return GrubConfig.defaultEntry(VARS + "menuentry t {\n linux /k " + words + "\n}\n", Map.of(), d -> null).kernelArgs();
    }

    static void assertRefused(String cfg, String... parts) {
        GrubException e = assertThrows(GrubException.class, () -> GrubConfig.defaultEntry(cfg, Map.of(), d -> null), cfg);
        for (String w : parts) {
            assertTrue(e.getMessage().contains(w), "message '" + e.getMessage() + "' lacks '" + w + "'");
        }
    }

    @Test
    void quotingAndEscapes() throws Exception {
        assertEquals(List.of("a b"), words("a\\ b"));
        assertEquals(List.of("c\"d"), words("'c\"d'"));
        assertEquals(List.of("e\\f"), words("e\\\\f"));
        assertEquals(List.of("a\\\\b"), words("'a\\\\b'"));
        assertEquals(List.of("a\\b"), words("\"a\\\\b\""));
        assertEquals(List.of("its"), words("'it''s'"));
        assertEquals(List.of("q\"q", "d$x", "e\\x", "q"), words("\"q\\\"q\" \"d\\$x\" \"e\\x\" \\q"));
        assertEquals(List.of("a#b"), words("a#b #a comment"));
        assertEquals(List.of("if", "then", "fi", "do", "done"), words("if then fi do done"));
        assertEquals(List.of("a", "b", "cd", "e\nf"), words("a \\\n  b \"c\\\nd\" 'e\nf'"));
    }

    @Test
    void expansionAndWordSplitting() throws Exception {
        assertEquals(List.of("1[a  b]", "2[a", "b]"), words("\"1[$x]\" 2[$x]"));
        assertEquals(List.of("x", "yz"), words("${v}z"), "trailing blanks do not split");
        assertEquals(List.of("[x]"), words("[${w}]"), "leading blanks do not split");
        assertEquals(List.of("[]", "   "), words("[${s}] ${s} \"${s}\""));
        assertEquals(List.of("7x", "", "end"), words("7${undefined}x ${undefined} \"\" end"));
        assertEquals(List.of("", "x"), words("\"$undefined\" x"));
        assertEquals(List.of("8p\\q", "9p\\q"), words("8$p \"9$p\""));
        assertEquals(List.of("1", "0", "0"), words("$zz $? ${?}"));
        assertEquals(List.of("a", "b"), words("$x"));
        assertEquals(List.of(), words("$nothing ${nothing}"));
    }

    @Test
    void setTakesItsFirstArgumentOnlyAndUnsetExportWork() throws Exception {
        String cfg = """
                set a=1 b=2
                set c
                set d=x=y
                set e=gone
                unset e
                export f
                menuentry t { linux /k a=$a b=$b c=$c d=$d e=$e f=$f }
                """;
        assertEquals(List.of("a=1", "b=", "c=", "d=x=y", "e=", "f="),
                GrubConfig.defaultEntry(cfg, Map.of(), d -> null).kernelArgs());
    }

    @Test
    void syntaxErrorsAreRefusedWithTheirLine() {
        assertRefused("menuentry t {\n linux /k\n", "line 1", "'{' is never closed");
        assertRefused("menuentry t { linux /k }\n}\n", "line 2", "'}' closes nothing");
        assertRefused("set a='open\n", "line 1", "unterminated single quote");
        assertRefused("\nset a=\"open\n", "line 2", "unterminated double quote");
        assertRefused("menuentry t\n{ linux /k }\n", "line 2", "'{' must end the line");
        assertRefused("menuentry t {\n}\n", "empty { } block");
        assertRefused("menuentry t { linux /k } echo\n", "unexpected text after '}'");
        assertRefused("set a=$\n", "'$' is not followed by a variable name");
        assertRefused("set a=${}\n", "'$' is not followed by a variable name");
        assertRefused("set a=${b\n", "'$' is not followed by a variable name");
        assertRefused("echo a | cat\n", "operator '|' is not supported");
        assertRefused("echo a && echo b\n", "operator '&&'");
        assertRefused("if true; then set a=1; fi\n", "'if' is not supported");
        assertRefused("function f { linux /k }\n", "'function' is not supported");
        assertRefused("for a in b; do echo; done\n", "'for' is not supported");
        assertRefused("fi\n", "unexpected 'fi'");
        assertRefused("menuentry --bogus t { linux /k }", "unknown option --bogus");
        assertRefused("menuentry --class os { linux /k }", "has no title");
        assertRefused("menuentry --id { linux /k }", "--id needs a value");
        assertRefused("menuentry t\n", "has no { } block");
    }

    @Test
    void commandsThatWouldChangeStateUnseenAreRefused() {
        for (String cmd : List.of("search --set=root --fs-uuid 1234", "source /x.cfg", "configfile /x.cfg", "load_env",
                "gptprio.next -d d -u u", "regexp --set=a x y", "eval set a=1")) {
            assertRefused(cmd + "\nmenuentry t { linux /k }", "line 1", "is not supported");
        }
    }

    @Test
    void whatGrubCannotBootFrom() {
        assertRefused("set default=0\n", "no menuentry");
        assertRefused("# nothing\n", "no menuentry");
        assertRefused("submenu s { echo }\n", "submenu 's>' has no menuentry");
        assertRefused("x".repeat(GrubConfig.MAX_BYTES + 1), "over the limit of 65536");
    }

    @Test
    void hostileConfigsStayBounded() {
        assertRefused("set a=xxxxxxxxxxxxxxxx\n" + "set a=\"$a$a\"\n".repeat(40), "line 13", "expands to more than 65536 bytes");
        assertRefused("set a=\"" + "x ".repeat(3000) + "\"\nmenuentry t { linux /k $a $a }", "more than 4096 words");
        assertRefused("set a=\"" + "x".repeat(40000) + "\"\nmenuentry t { linux /k $a $a }", "more than 65536 bytes");
        assertRefused("submenu s {".repeat(20) + " linux /k " + "}".repeat(20), "nested more than 16 deep");
        StringBuilder copies = new StringBuilder("set a=\"" + "x".repeat(60000) + "\"\n");
        for (int i = 0; i < 20; i++) {
            copies.append("set b").append(i).append("=\"$a\"\n");
        }
        assertRefused(copies.toString(), "variables grow past 1048576 bytes");
    }

    /** Random token soup: the interpreter answers or throws GrubException, quickly, nothing else. */
    @Test
    void randomConfigsOnlyEverThrowGrubException() {
        String[] soup = {"menuentry", "submenu", "linux", "initrd", "set", "probe", "--set", "--part-uuid", "export", "unset",
            "default=", "{", "}", "\"", "'", "$", "${", "$a", "${1}", "$#", "$@", "\\", "\n", ";", " ", "/k", "(hd0)",
            "x=y", "a", ">", "#", "--id", "0", "1", "if", "\t", "\\\n", "\"$a\"", "'q'", "()"};
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int seed = 0; seed < 3000; seed++) {
                Random r = new Random(seed);
                StringBuilder cfg = new StringBuilder();
                for (int k = r.nextInt(60); k > 0; k--) {
                    cfg.append(soup[r.nextInt(soup.length)]).append(r.nextInt(3) == 0 ? " " : "");
                }
                try {
                    GrubEntry e = GrubConfig.defaultEntry(cfg.toString(), Map.of("root", "hd0", "a", "v w"), d -> "u");
                    assertTrue(e.kernel().path().startsWith("/"));
                } catch (GrubException expected) {
                    assertTrue(expected.getMessage().length() > 10);
                } catch (RuntimeException | StackOverflowError bad) {
                    fail("seed " + seed + ": " + cfg, bad);
                }
            }
        });
    }
}
