package dev.jvmm.boot.grub;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Differential check against the real thing where Debian's grub-emu is installed (apt-get
 * install grub-emu; skipped otherwise): GRUB itself expands each line of words, a script
 * function prints the words it received in brackets, and the interpreter must agree.
 */
class GrubEmuTest {
    static final Path EMU = Path.of("/usr/bin/grub-emu");
    static final Path SCRIPT = Path.of("/usr/bin/script");

    static final List<String> LINES = List.of(
            "a\\ b 'c\"d' e\\\\f ${nothing} \"\" x${nothing}y",
            "\"1[$x]\" 2[$x] ${v}z [${w}] [${s}] ${s} \"${s}\"",
            "'it''s' \"q\\\"q\" \"d\\$x\" \"e\\x\" \\q a#b #comment",
            "8$p \"9$p\" $zz if then fi",
            "a \\\n  b \"c\\\nd\"",
            "dm-mod.create=\"$t\" ($root)/vmlinuz ${root}x",
            "$t");

    @TempDir
    Path tmp;

    @Test
    void grubAgreesWordForWord() throws Exception {
        assumeTrue(Files.isExecutable(EMU) && Files.isExecutable(SCRIPT), "needs grub-emu (apt-get install grub-emu)");
        StringBuilder cfg = new StringBuilder(GrubScriptTest.VARS);
        cfg.append("set t=\"root,,,ro,0 8 verity 1\"\nset root=hd0,gpt3\n");
        cfg.append("function show { for a in \"$@\"; do echo \"[$a]\"; done; echo \"==\"; }\n");
        for (String line : LINES) {
            cfg.append("show ").append(line).append('\n');
        }
        cfg.append("exit\n");
        Files.writeString(tmp.resolve("grub.cfg"), cfg);
        // grub-emu wants a terminal: script(1) gives it one and records the session in a file
        Path typescript = tmp.resolve("typescript");
        Process p = new ProcessBuilder(SCRIPT.toString(), "-qc", EMU + " -d " + tmp + " -r host", typescript.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "grub-emu did not exit");
        String out = new String(Files.readAllBytes(typescript), StandardCharsets.UTF_8).replaceAll("\u001b\\[[0-9;?]*[a-zA-Z]", "").replace("\r", "");
        List<List<String>> grub = new ArrayList<>();
        List<String> cur = new ArrayList<>();
        StringBuilder word = null;
        for (String l : out.split("\n")) {
            if (word != null) {
                word.append('\n').append(l);
            } else if (l.equals("==")) {
                grub.add(cur);
                cur = new ArrayList<>();
                continue;
            } else if (l.startsWith("[")) {
                word = new StringBuilder(l.substring(1));
            } else {
                continue;
            }
            if (word.toString().endsWith("]")) {
                cur.add(word.substring(0, word.length() - 1));
                word = null;
            }
        }
        assertEquals(LINES.size(), grub.size(), "grub-emu output: " + out);
        for (int i = 0; i < LINES.size(); i++) {
            String entry = cfg.substring(0, cfg.indexOf("function")) + "menuentry t {\n linux /k " + LINES.get(i) + "\n}\n";
            assertEquals(grub.get(i), GrubConfig.defaultEntry(entry, Map.of(), d -> null).kernelArgs(), LINES.get(i));
        }
    }
}
