package dev.jvmm.cli;

import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.selftest.TinyGuests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "bench-exits", mixinStandardHelpOptions = true,
        description = {"Exit round trips: a tiny guest does N port writes, each a KVM exit handled by jvmm.",
                "Reports exits per second (best of the rounds, after a warm-up round)."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--count", defaultValue = "200000", description = "port writes per round (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--rounds", defaultValue = "5", description = "measured rounds (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--lab", defaultValue = "auto", description = "auto (when there is no /dev/kvm), always, never")
    LabMode lab;

    @Override
    public Integer call() throws Exception {
        if (Guest.tinyGuestsInLab(lab, "benchmark", System.err)) {
            return Guest.runInLab(List.of("bench-exits", "--lab=never", "--count", Integer.toString(count), "--rounds",
                    Integer.toString(rounds)), 64, 1, 3600);
        }
        try (KvmSystem kvm = KvmSystem.open()) {
            TinyGuests.exitsPerSecond(kvm, count); // warm-up: JIT and page faults
            double best = 0;
            for (int i = 0; i < rounds; i++) {
                double r = TinyGuests.exitsPerSecond(kvm, count);
                System.out.printf("round %d: %.0f exits/s (%.2f us per exit)%n", i + 1, r, 1e6 / r);
                best = Math.max(best, r);
            }
            System.out.printf("best: %.0f exits/s%n", best);
        }
        return 0;
    }
}
