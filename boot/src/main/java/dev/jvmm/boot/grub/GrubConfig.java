package dev.jvmm.boot.grub;

import dev.jvmm.boot.grub.Interpreter.MenuItem;
import dev.jvmm.boot.grub.Syntax.Command;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads a grub.cfg as GRUB's normal mode would with a zero timeout: runs the script top to
 * bottom (so variables set after a menuentry are seen by it), then boots the default entry —
 * {@code default} as a number (grub_strtoul: decimal, 0x hex, 0 octal) or as a title or
 * {@code --id}, with {@code >} paths into submenus — and returns what that entry loads.
 *
 * <p>Where GRUB would quietly fall back to the first entry (a default that is out of range or
 * matches nothing), this refuses instead: a firmware should not boot a guess.
 */
public final class GrubConfig {
    /** Larger configs are refused; Bottlerocket's is well under 1 KiB. */
    public static final int MAX_BYTES = 64 * 1024;

    private GrubConfig() {}

    /**
     * The default entry of cfg. vars are the initial (exported) variables, e.g. root=hd0,gpt3;
     * partUuid answers {@code probe --part-uuid DEVICE} for a device name such as hd0,gpt3
     * (null when unknown).
     */
    public static GrubEntry defaultEntry(String cfg, Map<String, String> vars, Function<String, String> partUuid)
            throws GrubException {
        int size = cfg.getBytes(StandardCharsets.UTF_8).length;
        if (size > MAX_BYTES) {
            throw new GrubException("grub.cfg is " + size + " bytes, over the limit of " + MAX_BYTES);
        }
        List<Command> script = Parser.parse(cfg);
        Env env = Env.of(vars);
        Interpreter top = new Interpreter(env, partUuid, null);
        top.run(script);
        return choose(top.menu(), env, partUuid, "", 0);
    }

    private static GrubEntry choose(List<MenuItem> menu, Env env, Function<String, String> partUuid, String path, int depth)
            throws GrubException {
        if (menu.isEmpty()) {
            throw new GrubException(depth == 0 ? "grub.cfg has no menuentry" : "submenu '" + path + "' has no menuentry");
        }
        String def = env.get("default");
        MenuItem e = menu.get(index(menu, def, path));
        Env run = e.submenu() ? env.exportedCopy() : env;
        String rest = remainder(def);
        if (rest == null) {
            run.unset("default");
        } else {
            run.set("default", rest);
        }
        String chosen = env.get("chosen");
        run.set("chosen", (depth > 0 && chosen != null ? chosen + ">" : "") + e.id().replace(">", ">>"));
        run.export("chosen");
        Interpreter body = new Interpreter(run, partUuid, e.args());
        body.run(e.body());
        String title = path + e.title();
        if (e.submenu()) {
            return choose(body.menu(), run, partUuid, title + ">", depth + 1);
        }
        if (body.kernel() == null) {
            throw new GrubException("grub.cfg line " + e.line() + ": menu entry '" + title + "' has no linux command");
        }
        return new GrubEntry(title, body.kernel(), body.kernelArgs(), body.initrds());
    }

    /** Which entry {@code default} picks: unset or blank picks the first. */
    static int index(List<MenuItem> menu, String def, String path) throws GrubException {
        if (def == null || def.isBlank()) {
            return 0;
        }
        long n = strtoul(def);
        if (n >= 0) {
            if (n >= menu.size()) {
                throw new GrubException("default entry " + def + (path.isEmpty() ? "" : " in submenu '" + path + "'")
                        + " is out of range: there are " + menu.size() + " entries (GRUB would boot the first)");
            }
            return (int) n;
        }
        for (int k = 0; k < menu.size(); k++) {
            if (titleMatches(menu.get(k).title(), def) || titleMatches(menu.get(k).id(), def)) {
                return k;
            }
        }
        throw new GrubException("default '" + def + "'" + (path.isEmpty() ? "" : " in submenu '" + path + "'")
                + " matches no menu entry title or id (GRUB would boot the first)");
    }

    /**
     * grub_strtoul(s, &tail, 0) as the menu uses it: leading blanks skipped, 0x for hex, a 0
     * before an octal digit for octal, digits up to the first that does not fit; -1 when
     * there is no digit at all, Long.MAX_VALUE when the value overflows.
     */
    static long strtoul(String s) {
        int i = 0;
        while (i < s.length() && " \t\n\r".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        int base = 10;
        if (i + 1 < s.length() && s.charAt(i) == '0' && s.charAt(i + 1) == 'x') {
            base = 16;
            i += 2;
        } else if (i + 1 < s.length() && s.charAt(i) == '0' && s.charAt(i + 1) >= '0' && s.charAt(i + 1) <= '7') {
            base = 8;
        }
        long v = 0;
        boolean any = false;
        for (; i < s.length(); i++) {
            int d = Character.digit(s.charAt(i), base);
            if (d < 0 || s.charAt(i) > 'f') {
                break;
            }
            any = true;
            v = v > (Long.MAX_VALUE - d) / base ? Long.MAX_VALUE : v * base + d;
        }
        return any ? v : -1;
    }

    /** menuentry_eq: spec matches title up to its first single '>' ('>>' stands for '>'). */
    static boolean titleMatches(String title, String spec) {
        int i = 0;
        int j = 0;
        while (true) {
            char s = j < spec.length() ? spec.charAt(j) : 0;
            char s1 = j + 1 < spec.length() ? spec.charAt(j + 1) : 0;
            if (s == '>' && s1 != '>') {
                return i == title.length();
            }
            if (s == '>') {
                j++;
            }
            char t = i < title.length() ? title.charAt(i) : 0;
            s = j < spec.length() ? spec.charAt(j) : 0;
            if (t != s) {
                return false;
            }
            if (i == title.length()) {
                return true;
            }
            i++;
            j++;
        }
    }

    /** What {@code default} holds while the chosen entry runs: the part after its first single '>', or nothing. */
    static String remainder(String def) {
        if (def == null) {
            return null;
        }
        for (int k = 0; k < def.length(); k++) {
            if (def.charAt(k) == '>' && k + 1 < def.length() && def.charAt(k + 1) == '>') {
                k++;
            } else if (def.charAt(k) == '>') {
                return k + 1 < def.length() ? def.substring(k + 1) : null;
            }
        }
        return null;
    }
}
