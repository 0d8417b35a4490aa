package dev.jvmm.lab;

import dev.jvmm.machine.ExitCodes;
import dev.jvmm.machine.Machine;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.MachineConfigFile;
import dev.jvmm.machine.Startup;
import dev.jvmm.machine.Timeline;
import dev.jvmm.images.Cache;
import dev.jvmm.vmm.sys.NativeBoot;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;

/** The lab's entry point inside L1 for a boot: reads the machine file the host wrote and runs it. */
public final class InnerBoot {
    private InnerBoot() {}

    public static void main(String[] args) {
        Startup.mainEntered();
        NativeBoot.prepare(Cache.dir("native"));
        Timeline tl = new Timeline();
        int rc;
        try (Reader r = Files.newBufferedReader(Path.of(args[0]))) {
            MachineConfig config = MachineConfigFile.read(r);
            tl.mark("machine file read");
            rc = Machine.runOnConsole(config, tl);
        } catch (Exception e) {
            System.err.println("jvmm (in the lab): " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            rc = e instanceof dev.jvmm.boot.KernelLoadException || e instanceof dev.jvmm.machine.DeviceSetupException
                    || e instanceof IllegalArgumentException ? ExitCodes.USAGE : ExitCodes.INTERNAL_ERROR;
        }
        System.out.flush();
        System.exit(rc);
    }
}
