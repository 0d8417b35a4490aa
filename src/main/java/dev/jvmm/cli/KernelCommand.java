package dev.jvmm.cli;

import dev.jvmm.boot.KernelFiles;
import dev.jvmm.images.kernel.KernelBuilder;
import dev.jvmm.machine.UnpackedKernels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "kernel", mixinStandardHelpOptions = true, description = "jvmm's minimal guest kernel.",
        subcommands = {KernelCommand.Build.class})
final class KernelCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = {"Build the guest kernel from Debian's linux-source-6.1 (tinyconfig + jvmm's fragment),"
                    + " or reuse the cached build.",
                    "Prints two lines for scripts: 'vmlinux PATH' and 'bzImage PATH' ('Image PATH' for aarch64,"
                            + " cross-compiled). Progress goes to stderr. An x86_64 kernel is also unpacked into"
                            + " jvmm's cache, for boots that skip its decompressor."})
    static final class Build implements Callable<Integer> {
        @Option(names = "--arch", defaultValue = "x86_64", description = "target architecture: x86_64 or aarch64")
        String arch;

        @Override
        public Integer call() throws Exception {
            KernelBuilder.Built b = new KernelBuilder(arch).buildOrReuse();
            if (arch.equals("x86_64")) {
                // Unpacked now, so that no boot of it (nor of an image that carries it) runs the decompressor.
                UnpackedKernels.entryFor(KernelFiles.readKernel(b.image()));
            }
            System.out.println("vmlinux " + b.vmlinux().toAbsolutePath());
            System.out.println(b.imageName() + " " + b.image().toAbsolutePath());
            return 0;
        }
    }
}
