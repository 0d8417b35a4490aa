package dev.jvmm.machine;

import dev.jvmm.vmm.sys.Syscalls;

/**
 * Raw mode for an interactive console: no line editing, echo or signals on the host, so
 * every key (Ctrl-C included) reaches the guest. Set in-process with tcgetattr/cfmakeraw/
 * tcsetattr on stdin (spawning stty twice cost half a second in the lab); the saved settings
 * come back on close, and on a signal that ends the JVM. (Classes on jvmm's boot path use inner
 * classes rather than lambdas: the first lambda of a JVM links its invokedynamic machinery, which
 * costs tens of milliseconds on a host and most of a second under the lab's TCG.)
 */
public final class Terminal implements AutoCloseable {
    private static final int STDIN = 0;
    private final byte[] saved;
    private final Thread restoreOnExit;

    private Terminal(byte[] saved) {
        this.saved = saved;
        // A signal that ends the JVM (SIGTERM, SIGHUP) must not leave the user's terminal raw.
        this.restoreOnExit = saved == null ? null
                : new Thread("terminal-restore") {
                    @Override
                    public void run() {
                        Syscalls.setTerminalSettings(STDIN, saved);
                    }
                };
        if (restoreOnExit != null) {
            Runtime.getRuntime().addShutdownHook(restoreOnExit);
        }
    }

    /** True when stdin is a terminal. */
    public static boolean stdinIsTerminal() {
        return Syscalls.isTerminal(STDIN);
    }

    /** Enters raw mode if stdin is a terminal; otherwise returns a no-op terminal. */
    public static Terminal raw() {
        byte[] saved = stdinIsTerminal() ? Syscalls.terminalSettings(STDIN) : null;
        if (saved == null || !Syscalls.setTerminalSettings(STDIN, Syscalls.rawTerminalSettings(saved))) {
            return new Terminal(null);
        }
        return new Terminal(saved);
    }

    @Override
    public void close() {
        if (saved != null) {
            Syscalls.setTerminalSettings(STDIN, saved);
            try {
                Runtime.getRuntime().removeShutdownHook(restoreOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook is already running
            }
        }
    }
}
