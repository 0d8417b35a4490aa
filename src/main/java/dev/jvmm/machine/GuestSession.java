package dev.jvmm.machine;

import dev.jvmm.agent.AgentClient;
import dev.jvmm.agent.ReadyListener;
import dev.jvmm.images.disk.DiskImage;
import dev.jvmm.vmm.vcpu.StopReason;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The host's side of an image boot's guest agent, across passes: the readiness report marks the
 * booted slot successful on the disk; then, once per run, --update-from writes the new image
 * into the inactive slot and reboots into it, and --exec runs its command and powers off.
 * The agent's answers come on the listener's thread; the follow-ups run on a worker of their own,
 * so neither ever holds up the vCPUs or the device threads.
 */
final class GuestSession implements AutoCloseable {
    /** The update's own tries: one, so a bad update falls back on the next pass, as gptprio does. */
    static final int UPDATE_TRIES = 1;
    private static final long AGENT_CID = 3;

    private final ImageSpec image;
    private final Path uds;
    private final PrintStream err;
    private final ReadyListener listener;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "guest-session");
        t.setDaemon(true);
        return t;
    });
    private volatile Pass pass;
    private volatile Vm vm;
    private volatile String updateSlot;
    private volatile Integer execStatus;
    private volatile boolean done;

    private GuestSession(ImageSpec image, Path uds, PrintStream err) throws IOException {
        this.image = image;
        this.uds = uds;
        this.err = err;
        this.listener = ReadyListener.open(uds, this::onReady);
    }

    static GuestSession open(ImageSpec image, Path uds, PrintStream err) throws DeviceSetupException {
        try {
            return new GuestSession(image, uds, err);
        } catch (IOException e) {
            throw new DeviceSetupException("the agent's readiness socket " + uds + "_" + ReadyListener.PORT + ": "
                    + e.getMessage());
        }
    }

    /** The devices with a vsock device for the agent: the user's, or one on a socket of jvmm's own. */
    static DeviceSpecs.Devices withAgentSocket(DeviceSpecs.Devices d) {
        if (d.vsock() != null) {
            return d;
        }
        Path uds = Path.of(System.getProperty("java.io.tmpdir"), "jvmm-" + ProcessHandle.current().pid() + ".vsock");
        return new DeviceSpecs.Devices(d.drives(), d.nets(), new DeviceSpecs.Vsock(AGENT_CID, uds), d.rng(), d.discovery());
    }

    void beginPass(Pass p) {
        pass = p;
    }

    void attach(Vm running) {
        vm = running;
    }

    void detach() {
        vm = null;
    }

    /** The agent's readiness report: mark the slot, answer, then start what this run is for. */
    private String onReady(ReadyListener.Ready ready) {
        Pass p = pass;
        if (p == null || p.isMarked()) {
            return "IGNORED";
        }
        String slot = p.choice().slot();
        p.agentReady();
        try {
            DiskImage.open(image.disk()).markSuccessful(slot);
        } catch (Exception e) {
            say("could not mark slot " + slot + " successful: " + e.getMessage());
            return "ERROR " + e.getMessage();
        }
        p.marked();
        say("slot " + slot + " marked successful");
        worker.submit(() -> followUp(p));
        return "MARKED " + slot;
    }

    private void followUp(Pass p) {
        try {
            if (image.updateFrom() != null && updateSlot == null) {
                update(p);
            } else if (image.exec() != null) {
                exec();
            } else if (updateSlot != null) {
                // The update's pass (or the fallback's) is marked: the run is over.
                done = true;
                agentOrStop(AgentClient.Request.POWEROFF);
            }
        } catch (Throwable t) {
            say("agent follow-up failed: " + t);
            stopVm(StopReason.of(StopReason.Kind.ERROR, "agent follow-up failed: " + t.getMessage()));
        }
    }

    private void update(Pass p) throws Exception {
        DiskImage disk = DiskImage.open(image.disk());
        String target = p.choice().slot().equals("A") ? "B" : "A";
        say("update: writing " + image.updateFrom() + " into slot " + target + " (" + disk.layout().cliName() + " sequence)");
        disk.upgradeFrom(DiskImage.open(image.updateFrom()), p.choice().slot(), UPDATE_TRIES);
        updateSlot = target;
        say("update: slot " + target + " is next; asking the guest to reboot");
        agentOrStop(AgentClient.Request.REBOOT);
    }

    private void exec() {
        Vm running = vm;
        // stdout joins the console line by line; stderr stays jvmm's stderr.
        OutputStream out = running != null ? running.consoleLines() : new FileOutputStream(FileDescriptor.out);
        try {
            execStatus = new AgentClient(uds).exec(image.exec(), out, err);
            out.flush();
        } catch (IOException e) {
            say("--exec: " + e.getMessage());
            execStatus = ExitCodes.INTERNAL_ERROR;
        }
        done = true;
        agentOrStop(AgentClient.Request.POWEROFF);
    }

    /** Asks the agent to reboot or power off; if it cannot, the VM is stopped from here. */
    private void agentOrStop(AgentClient.Request request) {
        try {
            new AgentClient(uds).request(request);
        } catch (IOException e) {
            say("the agent did not take '" + request.line() + "' (" + e.getMessage() + "); stopping the VM");
            stopVm(request == AgentClient.Request.REBOOT ? StopReason.of(StopReason.Kind.RESET, "jvmm reset (agent unreachable)")
                    : StopReason.of(StopReason.Kind.POWER_OFF, "jvmm power-off (agent unreachable)"));
        }
    }

    private void stopVm(StopReason reason) {
        Vm v = vm;
        if (v != null) {
            v.stop(reason);
        }
    }

    /** A pass that ran out of --timeout before it was marked is a failed boot while an update is on trial. */
    boolean retryAfterTimeout(Pass p) {
        return updateSlot != null && !p.isMarked() && !done;
    }

    /**
     * jvmm's status once the passes are over: --exec's status; for an update, 0 when the new
     * slot was marked, {@link ExitCodes#UPDATE_ROLLED_BACK} when the old one took over; a guest
     * that kept rebooting, {@link ExitCodes#MAX_BOOTS}; else the last pass's own.
     */
    int exitStatus(StopReason last, List<Pass> passes, int maxBoots) {
        Pass lastPass = passes.isEmpty() ? null : passes.get(passes.size() - 1);
        if (updateSlot != null && lastPass != null && lastPass.isMarked() && done) {
            if (!lastPass.choice().slot().equals(updateSlot)) {
                say("update rolled back: slot " + updateSlot + " failed (" + outcomesOf(passes, updateSlot)
                        + "); slot " + lastPass.choice().slot() + " booted instead");
                return ExitCodes.UPDATE_ROLLED_BACK;
            }
            say("update: slot " + updateSlot + " booted and was marked successful");
        }
        if (execStatus != null) {
            return execStatus;
        }
        if (last != null && last.kind() == StopReason.Kind.RESET && passes.size() >= maxBoots) {
            say("the guest rebooted on each of " + maxBoots + " passes (--max-boots)");
            return ExitCodes.MAX_BOOTS;
        }
        return last == null ? ExitCodes.INTERNAL_ERROR : ExitCodes.of(last);
    }

    private static String outcomesOf(List<Pass> passes, String slot) {
        return String.join(", ", passes.stream().filter(p -> p.choice().slot().equals(slot)).map(Pass::outcome).toList());
    }

    private void say(String line) {
        err.println("\r\njvmm: " + line + "\r");
    }

    @Override
    public void close() throws InterruptedException {
        worker.shutdownNow();
        worker.awaitTermination(5, TimeUnit.SECONDS);
        try {
            listener.close();
        } catch (IOException e) {
            say("closing the readiness socket: " + e.getMessage());
        }
    }
}
