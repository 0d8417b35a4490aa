package dev.jvmm.cli;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.ab.AbException;
import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.boot.verity.VerityException;
import dev.jvmm.images.Cache;
import dev.jvmm.images.firmware.FirmwareException;
import dev.jvmm.machine.DeviceSetupException;
import dev.jvmm.machine.ExitCodes;
import dev.jvmm.machine.Startup;
import dev.jvmm.vmm.sys.DiskLock;
import dev.jvmm.vmm.sys.NativeBoot;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintStream;
import java.util.List;

/**
 * The jvmm command line. picocli builds a command's model by reflection, which costs tens of
 * milliseconds per command at start-up: a run of one subcommand builds that one alone, and only
 * top-level help (or an unknown word) builds them all. The root and {@code boot}, which every
 * boot passes through, are built with picocli's programmatic API (no annotations to read).
 */
public final class Main implements Runnable {
    /** Every subcommand, in the order help lists them; each made only when it runs ({@link #make}). */
    static final List<String> COMMANDS = List.of("boot", "image", "kernel", "initramfs", "doctor", "selftest", "bench",
            "bench-exits", "vsock-check", "smoke", "ctl", "kvm-report");

    /**
     * The command object for {@code name}, or null. A switch, not a map of constructor references:
     * the first method reference of a JVM links invokedynamic, which a boot would pay for here.
     */
    static Object make(String name) {
        return switch (name) {
            case "boot" -> BootCommand.spec();
            case "image" -> new ImageCommand();
            case "kernel" -> new KernelCommand();
            case "initramfs" -> new InitramfsCommand();
            case "doctor" -> new DoctorCommand();
            case "selftest" -> new SelftestCommand();
            case "bench" -> new BenchGroupCommand();
            case "bench-exits" -> new BenchCommand();
            case "vsock-check" -> new VsockCheckCommand();
            case "smoke" -> new SmokeCommand();
            case "ctl" -> new CtlCommand();
            case "kvm-report" -> new KvmReportCommand();
            default -> null;
        };
    }

    private CommandSpec spec;

    /** The root command's model: name, version, description and the help options. */
    static CommandSpec rootSpec() {
        Main main = new Main();
        CommandSpec spec = CommandSpec.wrapWithoutInspection(main).name("jvmm").version("jvmm 0.1.0");
        main.spec = spec;
        spec.usageMessage().footer("", ExitCodes.HELP)
                .description("A KVM virtual machine monitor in Java that boots Linux guests and container-OS images.");
        addStandardHelpOptions(spec);
        return spec;
    }

    /** {@code -h} and {@code -V}, as picocli's mixinStandardHelpOptions would add them (without its annotated mixin). */
    static void addStandardHelpOptions(CommandSpec spec) {
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                .description("Show this help message and exit.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print version information and exit.").build());
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The whole command tree: for help and for tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(rootSpec());
        for (String name : COMMANDS) {
            cl.addSubcommand(name, make(name));
        }
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        return configure(cl);
    }

    /**
     * The tree {@code args} needs: the root with only the subcommand named first, when it names
     * one; the whole tree otherwise (top-level help, a typo: picocli then suggests the right word).
     */
    public static CommandLine commandLine(String... args) {
        Object command = args.length > 0 ? make(args[0]) : null;
        if (command == null) {
            return commandLine();
        }
        CommandLine cl = new CommandLine(rootSpec());
        cl.addSubcommand(args[0], command);
        return configure(cl);
    }

    private static CommandLine configure(CommandLine cl) {
        CommandLine ctl = cl.getSubcommands().get("ctl");
        if (ctl != null) {
            ctl.setStopAtPositional(true); // exec's command may hold its own options: ctl exec ls -l
        }
        cl.setExecutionExceptionHandler(new CommandLine.IExecutionExceptionHandler() {
            @Override
            public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
                PrintStream err = cmd.getErr() != null ? new PrintStream(System.err, true) : System.err;
                String msg = ex.getMessage() != null ? ex.getMessage() : ex.toString();
                err.println("jvmm: " + msg.replace('\n', ' '));
                return exitStatus(ex);
            }
        });
        return cl;
    }

    /** The exit status for an exception a command let out (the table in README "Exit status"). */
    static int exitStatus(Exception ex) {
        if (ex instanceof FirmwareException fe) {
            return fe.noBootableSlot() ? ExitCodes.NO_BOOTABLE_SLOT : ExitCodes.USAGE;
        }
        if (ex instanceof KernelLoadException || ex instanceof IllegalArgumentException
                || ex instanceof DeviceSetupException) {
            return ExitCodes.USAGE;
        }
        if (ex instanceof DiskLock.InUseException) {
            return ExitCodes.CHECK_FAILED; // an image command on an image a VM or another command holds
        }
        if (ex instanceof GptException || ex instanceof VerityException || ex instanceof AbException) {
            return ExitCodes.CHECK_FAILED;
        }
        return ExitCodes.INTERNAL_ERROR;
    }

    /**
     * picocli's converters for java.time and java.sql types, which no jvmm option has: each
     * CommandLine would otherwise look each of them up by reflection and initialise the java.time
     * classes, about a quarter of a boot's time in picocli (picocli's documented switch).
     */
    static final String UNUSED_CONVERTERS = "java\\.time\\..*,java\\.sql\\..*";

    /**
     * picocli's switches for what jvmm does not use, set before its first CommandLine (by main and
     * by the class-data training, which should load what a boot loads and no more).
     */
    static void leavePicocliUnusedParts() {
        if (System.getProperty("picocli.converters.excludes") == null) {
            System.setProperty("picocli.converters.excludes", UNUSED_CONVERTERS);
        }
        // Nor Groovy closures: picocli's factory would look for groovy.lang.Closure, a class-path
        // search that opens jvmm's jar (6,400 entries) only to fail.
        System.setProperty("picocli.disable.closures", "true");
    }

    public static void main(String[] args) {
        Startup.mainEntered();
        leavePicocliUnusedParts();
        NativeBoot.prepare(Cache.dir("native"));
        int rc = commandLine(args).execute(args);
        System.out.flush();
        System.exit(rc);
    }
}
