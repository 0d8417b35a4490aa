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
import picocli.CommandLine.Command;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The jvmm command line. picocli builds a command's model by reflection, which costs tens of
 * milliseconds per command at start-up: a run of one subcommand builds that one alone, and only
 * top-level help (or an unknown word) builds them all.
 */
@Command(name = "jvmm", mixinStandardHelpOptions = true, version = "jvmm 0.1.0",
        description = "A KVM virtual machine monitor in Java that boots Linux guests and container-OS images.",
        footer = {"", ExitCodes.HELP})
public final class Main implements Runnable {
    /** Every subcommand by name, in the order help lists them; each made only when it runs. */
    static final Map<String, Supplier<Object>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("boot", BootCommand::new);
        COMMANDS.put("image", ImageCommand::new);
        COMMANDS.put("kernel", KernelCommand::new);
        COMMANDS.put("initramfs", InitramfsCommand::new);
        COMMANDS.put("doctor", DoctorCommand::new);
        COMMANDS.put("selftest", SelftestCommand::new);
        COMMANDS.put("bench", BenchGroupCommand::new);
        COMMANDS.put("bench-exits", BenchCommand::new);
        COMMANDS.put("vsock-check", VsockCheckCommand::new);
        COMMANDS.put("smoke", SmokeCommand::new);
        COMMANDS.put("ctl", CtlCommand::new);
        COMMANDS.put("kvm-report", KvmReportCommand::new);
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The whole command tree: for help and for tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        COMMANDS.forEach((name, make) -> cl.addSubcommand(name, make.get()));
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        return configure(cl);
    }

    /**
     * The tree {@code args} needs: the root with only the subcommand named first, when it names
     * one; the whole tree otherwise (top-level help, a typo: picocli then suggests the right word).
     */
    public static CommandLine commandLine(String... args) {
        Supplier<Object> make = args.length > 0 ? COMMANDS.get(args[0]) : null;
        if (make == null) {
            return commandLine();
        }
        CommandLine cl = new CommandLine(new Main());
        cl.addSubcommand(args[0], make.get());
        return configure(cl);
    }

    private static CommandLine configure(CommandLine cl) {
        CommandLine ctl = cl.getSubcommands().get("ctl");
        if (ctl != null) {
            ctl.setStopAtPositional(true); // exec's command may hold its own options: ctl exec ls -l
        }
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintStream err = cmd.getErr() != null ? new PrintStream(System.err, true) : System.err;
            String msg = ex.getMessage() != null ? ex.getMessage() : ex.toString();
            err.println("jvmm: " + msg.replace('\n', ' '));
            return exitStatus(ex);
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

    public static void main(String[] args) {
        Startup.mainEntered();
        NativeBoot.prepare(Cache.dir("native"));
        int rc = commandLine(args).execute(args);
        System.out.flush();
        System.exit(rc);
    }
}
