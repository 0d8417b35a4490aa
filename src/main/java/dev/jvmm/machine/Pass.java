package dev.jvmm.machine;

import dev.jvmm.images.firmware.BootChoice;
import dev.jvmm.vmm.vcpu.StopReason;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One firmware pass of an image boot and what became of it, told by the VM's events (boot
 * timer, console lines) and the agent (marked): the record behind the pass line, the summary
 * and --metrics "boots".
 */
public final class Pass implements Vm.Events {
    /** What a console line says about how a boot is going wrong. */
    static final String PANIC = "Kernel panic - not syncing";
    static final String VERITY = "device-mapper: verity";

    private final int number;
    private final BootChoice choice;
    private final Timeline timeline;
    private volatile boolean ready;
    private volatile Long readyMs;
    private volatile boolean marked;
    private volatile boolean panicked;
    private volatile boolean verityFailed;
    private volatile StopReason end;

    Pass(int number, BootChoice choice, Timeline timeline) {
        this.number = number;
        this.choice = choice;
        this.timeline = timeline;
    }

    public int number() {
        return number;
    }

    public BootChoice choice() {
        return choice;
    }

    @Override
    public void guestReady() {
        ready = true;
        timeline.markOnce("guest ready (boot timer)");
        readyMs = timeline.millisOf(timeline.name("guest ready (boot timer)"));
    }

    @Override
    public void consoleLine(String line) {
        if (line.contains(PANIC)) {
            panicked = true;
        } else if (line.contains(VERITY) && (line.contains("corrupted") || line.contains("verification failed"))) {
            verityFailed = true;
        }
    }

    /** The timeline mark of the agent's readiness report (jvmm bench boot reads it). */
    public static final String AGENT_READY = "agent ready";

    void agentReady() {
        timeline.markOnce(AGENT_READY);
    }

    void marked() {
        marked = true;
    }

    public boolean isReady() {
        return ready;
    }

    public boolean isMarked() {
        return marked;
    }

    void ended(StopReason reason) {
        end = reason;
    }

    /** ready|marked|rebooted|panicked|verity|timeout|powered-off: the failure if it failed, else how far it got. */
    public String outcome() {
        StopReason e = end;
        if (verityFailed) {
            return "verity";
        }
        if (panicked) {
            return "panicked";
        }
        if (e != null && e.kind() == StopReason.Kind.TIMEOUT && !marked) {
            return "timeout";
        }
        if (marked) {
            return "marked";
        }
        if (ready) {
            return "ready";
        }
        if (e == null) {
            return "running";
        }
        return switch (e.kind()) {
            case RESET -> "rebooted";
            case POWER_OFF, EXIT_REGISTER -> "powered-off";
            default -> e.kind().name().toLowerCase(Locale.ROOT).replace('_', '-');
        };
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pass", number);
        m.put("layout", choice.layout().cliName());
        m.put("slot", choice.slot());
        m.put("version", choice.version());
        m.put("tries_before", choice.before().triesLeft());
        m.put("tries_after", choice.after().triesLeft());
        m.put("outcome", outcome());
        m.put("ready_ms", readyMs);
        return m;
    }
}
