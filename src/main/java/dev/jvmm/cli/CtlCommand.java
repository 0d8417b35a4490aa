package dev.jvmm.cli;

import dev.jvmm.agent.AgentClient;
import dev.jvmm.agent.AgentException;
import dev.jvmm.machine.ExitCodes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** jvmm ctl: the operator's way to ask a running container-OS VM's agent something, or to run a command in it. */
@Command(name = "ctl", mixinStandardHelpOptions = true,
        description = {"Ask the guest agent of a running container-OS VM (jvmm-agent, vsock port 1024) through the VM's"
                + " vsock Unix socket.",
                "REQUEST: status, slot, version, ping, reboot, poweroff, or exec CMD... (the words after exec, joined"
                        + " with spaces, run with /bin/sh -c in the guest; their output goes to jvmm's stdout and stderr)."
                        + " Options go before REQUEST."},
        footer = {"", "Exit status: 0 done (exec: the command's own status); 1 the agent answered with an error;"
                + " 2 bad arguments; 70 the VM or its agent cannot be reached, or answered out of protocol."})
final class CtlCommand implements Callable<Integer> {
    static final int GUEST_ERROR = 1;

    @Option(names = "--uds", required = true, paramLabel = "PATH", description = "the VM's vsock Unix socket (--vsock uds=PATH)")
    Path uds;

    @Option(names = "--timeout", defaultValue = "10", paramLabel = "SEC",
            description = "how long to wait for the connection and for a reply line (default ${DEFAULT-VALUE}; exec waits for its command)")
    int timeoutSeconds;

    @Parameters(index = "0", paramLabel = "REQUEST", description = "status, slot, version, ping, reboot, poweroff or exec")
    String request;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "CMD", description = "exec's command")
    List<String> words = new ArrayList<>();

    @Override
    public Integer call() {
        try {
            if (timeoutSeconds < 1 || timeoutSeconds > 3600) {
                throw new IllegalArgumentException("--timeout must be 1..3600 seconds");
            }
            Duration t = Duration.ofSeconds(timeoutSeconds);
            AgentClient client = new AgentClient(uds, new AgentClient.Timeouts(t, t, Duration.ZERO));
            if (request.equals("exec")) {
                if (words.isEmpty()) {
                    throw new IllegalArgumentException("exec needs a command: jvmm ctl --uds PATH exec CMD...");
                }
                return client.exec(String.join(" ", words), System.out, System.err);
            }
            AgentClient.Request r = parse(request);
            if (!words.isEmpty()) {
                throw new IllegalArgumentException("'" + request + "' takes no arguments (got " + String.join(" ", words) + ")");
            }
            line(System.out, client.request(r));
            return 0;
        } catch (IllegalArgumentException e) {
            line(System.err, "jvmm: ctl: " + e.getMessage());
            return ExitCodes.USAGE;
        } catch (AgentException e) {
            line(System.err, "jvmm: ctl: " + e.getMessage());
            return e.kind() == AgentException.Kind.GUEST_ERROR ? GUEST_ERROR : ExitCodes.INTERNAL_ERROR;
        } catch (IOException e) {
            line(System.err, "jvmm: ctl: writing the command's output failed: " + e.getMessage());
            return ExitCodes.INTERNAL_ERROR;
        }
    }

    private static AgentClient.Request parse(String word) {
        for (AgentClient.Request r : AgentClient.Request.values()) {
            if (r.line().equals(word.toLowerCase(Locale.ROOT))) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown request '" + word + "' (status, slot, version, ping, exec, reboot, poweroff)");
    }

    /** One line in one write, so lines from concurrent writers do not interleave. */
    static void line(PrintStream to, String text) {
        byte[] b = (text + "\n").getBytes(StandardCharsets.UTF_8);
        to.write(b, 0, b.length);
        to.flush();
    }
}
