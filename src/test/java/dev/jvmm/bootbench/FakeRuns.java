package dev.jvmm.bootbench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Measured boots as the runner will hand them over, made up but shaped like real ones: jvmm (a
 * JVM start and a parse before the VM exists), QEMU microvm and the C floor (no JVM, no parse; the
 * floor never reports "VM stopped"), phases increasing with a seeded spread, warm-ups slower,
 * some jvmm runs without a console byte, and one jvmm run that timed out before ready.
 */
final class FakeRuns {
    private FakeRuns() {}

    static final Map<Phase, Double> JVMM = profile(Phase.JVM_MAIN, 48, Phase.PARSED, 130, Phase.VM_CREATED, 152,
            Phase.MEMORY_MAPPED, 160, Phase.KERNEL_LOADED, 205, Phase.FIRST_KVM_RUN, 212, Phase.FIRST_CONSOLE_BYTE, 262,
            Phase.RUN_INIT, 640, Phase.READY, 790, Phase.BOOT_TIMER, 801, Phase.VM_STOPPED, 815, Phase.EXITED, 840);
    static final Map<Phase, Double> QEMU = profile(Phase.VM_CREATED, 28, Phase.MEMORY_MAPPED, 33,
            Phase.KERNEL_LOADED, 62, Phase.FIRST_KVM_RUN, 71, Phase.FIRST_CONSOLE_BYTE, 125, Phase.RUN_INIT, 520,
            Phase.READY, 860, Phase.VM_STOPPED, 880, Phase.EXITED, 905);
    static final Map<Phase, Double> FLOOR = profile(Phase.VM_CREATED, 0.8, Phase.MEMORY_MAPPED, 1.5,
            Phase.KERNEL_LOADED, 6, Phase.FIRST_KVM_RUN, 6.4, Phase.FIRST_CONSOLE_BYTE, 48, Phase.RUN_INIT, 470,
            Phase.READY, 690, Phase.EXITED, 700);

    /** {@code counted} counted runs and {@code warmups} warm-ups per VMM; jvmm's run warmups+3 failed. */
    static List<BootRun> threeVmms(int counted, int warmups, long seed) {
        Random random = new Random(seed);
        List<BootRun> runs = new ArrayList<>();
        runs.addAll(vmm("jvmm", JVMM, counted, warmups, 182_000, random));
        runs.addAll(vmm("qemu", QEMU, counted, warmups, 125_000, random));
        runs.addAll(vmm("floor", FLOOR, counted, warmups, 94_000, random));
        return runs;
    }

    static List<BootRun> vmm(String name, Map<Phase, Double> profile, int counted, int warmups, long rssKib,
                             Random random) {
        List<BootRun> runs = new ArrayList<>();
        for (int i = 1; i <= warmups + counted; i++) {
            boolean warmup = i <= warmups;
            Map<Phase, Double> phases = new EnumMap<>(Phase.class);
            double previousBase = 0;
            double at = 0;
            for (Map.Entry<Phase, Double> e : profile.entrySet()) {
                double segment = (e.getValue() - previousBase) * (1 + 0.08 * random.nextGaussian());
                previousBase = e.getValue();
                at += Math.max(0.05, segment) * (warmup ? 1.5 : 1.0);
                phases.put(e.getKey(), Math.round(at * 1000) / 1000.0);
            }
            if (name.equals("jvmm") && i % 5 == 0) {
                phases.remove(Phase.FIRST_CONSOLE_BYTE);
            }
            String failure = null;
            int status = 0;
            if (name.equals("jvmm") && i == warmups + 3) {
                phases.keySet().removeIf(p -> p.compareTo(Phase.RUN_INIT) > 0);
                failure = "no ready marker within 60 s, \"timeout\"";
                status = 124;
            }
            double kvmRun = phases.get(Phase.FIRST_KVM_RUN);
            Double runInit = phases.containsKey(Phase.RUN_INIT) ? round(phases.get(Phase.RUN_INIT) - kvmRun - 20) : null;
            Double uptime = phases.containsKey(Phase.READY) ? round(phases.get(Phase.READY) - kvmRun - 15) : null;
            long touched = 92_160 + random.nextInt(512);
            runs.add(new BootRun(name, i, warmup, phases, runInit, uptime, rssKib + random.nextInt(4096), touched,
                    status, failure));
        }
        return runs;
    }

    /** A run with the given phases (pairs of Phase, ms), no guest clock or memory. */
    static BootRun run(String vmm, int index, boolean warmup, String failure, Object... phaseMs) {
        return new BootRun(vmm, index, warmup, profile(phaseMs), null, null, null, null, failure == null ? 0 : 1, failure);
    }

    static Map<Phase, Double> profile(Object... phaseMs) {
        Map<Phase, Double> m = new EnumMap<>(Phase.class);
        for (int i = 0; i < phaseMs.length; i += 2) {
            m.put((Phase) phaseMs[i], ((Number) phaseMs[i + 1]).doubleValue());
        }
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
