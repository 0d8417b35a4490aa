package dev.jvmm.boot.grub;

import dev.jvmm.boot.grub.Syntax.Command;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Runs commands the way GRUB's normal mode does, for the commands that matter to booting:
 * set, unset, export, NAME=VALUE, probe --part-uuid, menuentry/submenu (recorded, run later),
 * linux and initrd (recorded as the loader state). Commands that would change variables or
 * control flow in ways this interpreter cannot follow are refused; any other command is
 * ignored, as GRUB goes on past a command it cannot find.
 */
final class Interpreter {
    /** A menuentry or submenu as defined: its body runs only when it is chosen. */
    record MenuItem(String title, String id, List<String> args, List<Command> body, boolean submenu, int line) {}

    private static final Set<String> REFUSED = Set.of("source", ".", "configfile", "normal", "search", "search.fs_uuid",
            "search.fs_label", "search.file", "load_env", "regexp", "setparams", "shift", "eval", "read", "gptprio.next",
            "blscfg", "extract_entries_source", "extract_entries_configfile", "legacy_source", "legacy_configfile",
            "syslinux_source", "syslinux_configfile");
    private static final Set<String> LINUX = Set.of("linux", "linuxefi", "linux16");
    private static final Set<String> INITRD = Set.of("initrd", "initrdefi", "initrd16");
    private static final Set<String> PROBE_MODES = Set.of("--driver", "-d", "--partmap", "-p", "--fs", "-f", "--fs-uuid",
            "-u", "--label", "-l");

    private final Env env;
    private final Function<String, String> partUuid;
    private final List<String> positional;
    private final List<MenuItem> menu = new ArrayList<>();
    private GrubFile kernel;
    private List<String> kernelArgs = List.of();
    private List<GrubFile> initrds = List.of();

    Interpreter(Env env, Function<String, String> partUuid, List<String> positional) {
        this.env = env;
        this.partUuid = partUuid;
        this.positional = positional;
    }

    List<MenuItem> menu() {
        return menu;
    }

    GrubFile kernel() {
        return kernel;
    }

    List<String> kernelArgs() {
        return kernelArgs;
    }

    List<GrubFile> initrds() {
        return initrds;
    }

    void run(List<Command> commands) throws GrubException {
        for (Command c : commands) {
            exec(c);
        }
    }

    private static GrubException error(Command c, String what) {
        return new GrubException("grub.cfg line " + c.line() + ": " + what);
    }

    private void exec(Command c) throws GrubException {
        List<String> argv = Expander.expand(c.words(), env, positional, c.line());
        if (argv.isEmpty()) {
            return;
        }
        String name = argv.get(0);
        List<String> args = argv.subList(1, argv.size());
        if (name.equals("menuentry") || name.equals("submenu")) {
            menuEntry(c, args, name.equals("submenu"));
        } else if (name.equals("set")) {
            // grub_core_cmd_set: only the first argument counts; one without '=' is an error GRUB reports and passes
            if (!args.isEmpty() && args.get(0).indexOf('=') > 0) {
                String a = args.get(0);
                env.set(a.substring(0, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            }
        } else if (name.equals("unset")) {
            for (String a : args) {
                env.unset(a);
            }
        } else if (name.equals("export")) {
            for (String a : args) {
                env.export(a);
            }
        } else if (name.equals("probe")) {
            probe(c, args);
        } else if (LINUX.contains(name)) {
            if (args.isEmpty()) {
                throw error(c, name + " names no kernel");
            }
            kernel = GrubFile.parse(args.get(0), env.get("root"), "grub.cfg line " + c.line() + ": " + name);
            kernelArgs = List.copyOf(args.subList(1, args.size()));
            initrds = List.of(); // loading a kernel unloads the previous initrd
        } else if (INITRD.contains(name)) {
            if (kernel == null) {
                throw error(c, name + " before any linux command (GRUB: you need to load the kernel first)");
            }
            List<GrubFile> files = new ArrayList<>();
            for (String a : args) {
                files.add(GrubFile.parse(a, env.get("root"), "grub.cfg line " + c.line() + ": " + name));
            }
            initrds = List.copyOf(files);
        } else if (REFUSED.contains(name)) {
            throw error(c, "'" + name + "' is not supported by this interpreter");
        } else if (name.indexOf('=') > 0 && !Character.isDigit(name.charAt(0)) && "#*@".indexOf(name.charAt(0)) < 0) {
            // not a command, so GRUB takes NAME=VALUE as an assignment (grub_script_execute_cmdline)
            env.set(name.substring(0, name.indexOf('=')), name.substring(name.indexOf('=') + 1));
        }
    }

    /** probe [--set VAR] --part-uuid DEVICE: the GPT partition GUID of DEVICE, from the caller. */
    private void probe(Command c, List<String> args) throws GrubException {
        String var = null;
        String device = null;
        boolean uuid = false;
        for (int k = 0; k < args.size(); k++) {
            String a = args.get(k);
            if (a.equals("--set") || a.equals("-s")) {
                if (++k == args.size()) {
                    throw error(c, "probe --set needs a variable name");
                }
                var = args.get(k);
            } else if (a.startsWith("--set=")) {
                var = a.substring("--set=".length());
            } else if (a.equals("--part-uuid")) {
                uuid = true;
            } else if (PROBE_MODES.contains(a)) {
                throw error(c, "probe " + a + " is not supported (only --part-uuid)");
            } else if (a.startsWith("-")) {
                throw error(c, "probe: unknown option " + a);
            } else if (device != null) {
                throw error(c, "probe takes one device, got " + device + " and " + a);
            } else {
                device = a;
            }
        }
        if (!uuid) {
            throw error(c, "probe without --part-uuid is not supported");
        }
        if (device == null || device.isEmpty() || device.equals("()")) {
            throw error(c, "probe --part-uuid names no device");
        }
        if (device.startsWith("(") && device.endsWith(")")) {
            device = device.substring(1, device.length() - 1);
        }
        String value = partUuid.apply(device);
        if (value == null) {
            throw error(c, "probe --part-uuid: no partition UUID for device " + device);
        }
        if (var != null) {
            env.set(var, value);
        }
    }

    /** menuentry/submenu [options] TITLE [ARGS...] { BODY }, options as grub-core/commands/menuentry.c takes them. */
    private void menuEntry(Command c, List<String> args, boolean submenu) throws GrubException {
        String id = null;
        List<String> positional = new ArrayList<>();
        boolean options = true;
        for (int k = 0; k < args.size(); k++) {
            String a = args.get(k);
            if (options && a.equals("--")) {
                options = false;
            } else if (options && a.startsWith("--")) {
                int eq = a.indexOf('=');
                String opt = eq < 0 ? a.substring(2) : a.substring(2, eq);
                switch (opt) {
                    case "unrestricted" -> { }
                    case "class", "users", "hotkey", "id" -> {
                        String v;
                        if (eq >= 0) {
                            v = a.substring(eq + 1);
                        } else if (k + 1 < args.size()) {
                            v = args.get(++k);
                        } else {
                            throw error(c, "menuentry option " + a + " needs a value");
                        }
                        if (opt.equals("id")) {
                            id = v;
                        }
                    }
                    case "source" -> throw error(c, "menuentry --source is not supported");
                    default -> throw error(c, "menuentry: unknown option " + a);
                }
            } else if (options && a.startsWith("-") && a.length() > 1) {
                throw error(c, "menuentry: unknown option " + a);
            } else {
                positional.add(a);
            }
        }
        String what = submenu ? "submenu" : "menuentry";
        if (positional.isEmpty()) {
            throw error(c, what + " has no title");
        }
        if (c.block() == null) {
            throw error(c, what + " '" + positional.get(0) + "' has no { } block");
        }
        String title = positional.get(0);
        menu.add(new MenuItem(title, id == null ? title : id, List.copyOf(positional), c.block(), submenu, c.line()));
    }
}
