package dev.jvmm.cli;

import dev.jvmm.machine.ExitCodes;
import dev.jvmm.images.firmware.FirmwareException;
import dev.jvmm.vmm.sys.DiskLock;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintStream;

/** The jvmm command line. */
@Command(name = "jvmm", mixinStandardHelpOptions = true, version = "jvmm 0.1.0",
        description = "A KVM virtual machine monitor in Java that boots Linux guests and container-OS images.",
        subcommands = {BootCommand.class, ImageCommand.class, KernelCommand.class, InitramfsCommand.class, DoctorCommand.class,
                SelftestCommand.class, BenchCommand.class, BenchPeerCommand.class, VsockCheckCommand.class, SmokeCommand.class, CtlCommand.class, CommandLine.HelpCommand.class},
        footer = {"", ExitCodes.HELP})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.getSubcommands().get("ctl").setStopAtPositional(true); // exec's command may hold its own options: ctl exec ls -l
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintStream err = cmd.getErr() != null ? new PrintStream(System.err, true) : System.err;
            String msg = ex.getMessage() != null ? ex.getMessage() : ex.toString();
            err.println("jvmm: " + msg.replace('\n', ' '));
            if (ex instanceof FirmwareException fe) {
                return fe.noBootableSlot() ? ExitCodes.NO_BOOTABLE_SLOT : ExitCodes.USAGE;
            }
            if (ex instanceof dev.jvmm.boot.KernelLoadException || ex instanceof IllegalArgumentException
                    || ex instanceof dev.jvmm.machine.DeviceSetupException) {
                return ExitCodes.USAGE;
            }
            if (ex instanceof DiskLock.InUseException) {
                return ExitCodes.CHECK_FAILED; // an image command on an image a VM or another command holds
            }
            if (ex instanceof dev.jvmm.boot.gpt.GptException || ex instanceof dev.jvmm.boot.verity.VerityException
                    || ex instanceof dev.jvmm.boot.ab.AbException) {
                return ExitCodes.CHECK_FAILED;
            }
            return ExitCodes.INTERNAL_ERROR;
        });
        return cl;
    }

    public static void main(String[] args) {
        int rc = commandLine().execute(args);
        System.out.flush();
        System.exit(rc);
    }
}
