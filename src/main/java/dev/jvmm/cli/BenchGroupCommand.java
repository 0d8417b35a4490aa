package dev.jvmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code jvmm bench}: the benchmarks that boot guests (for now: boot latency). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks: jvmm bench boot (boot latency).",
        subcommands = {BenchBootCommand.class})
final class BenchGroupCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
