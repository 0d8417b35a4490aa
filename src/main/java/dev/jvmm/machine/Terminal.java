package dev.jvmm.machine;

import java.io.IOException;

/**
 * Raw mode for an interactive console: no line editing, echo or signals on the host, so
 * every key (Ctrl-C included) reaches the guest. Uses stty on the inherited stdin; restores
 * the saved settings on close.
 */
public final class Terminal implements AutoCloseable {
    private final String saved;
    private final Thread restoreOnExit;

    private Terminal(String saved) {
        this.saved = saved;
        // A signal that ends the JVM (SIGTERM, SIGHUP) must not leave the user's terminal raw.
        this.restoreOnExit = saved == null ? null : new Thread(() -> stty(saved), "terminal-restore");
        if (restoreOnExit != null) {
            Runtime.getRuntime().addShutdownHook(restoreOnExit);
        }
    }

    /** True when stdin is a terminal (System.console() is non-null only then on Java 17). */
    public static boolean stdinIsTerminal() {
        return System.console() != null;
    }

    /** Enters raw mode if stdin is a terminal; otherwise returns a no-op terminal. */
    public static Terminal raw() {
        if (!stdinIsTerminal()) {
            return new Terminal(null);
        }
        String saved = stty("-g");
        if (saved == null) {
            return new Terminal(null);
        }
        stty("raw", "-echo");
        return new Terminal(saved.trim());
    }

    private static String stty(String... args) {
        String[] argv = new String[args.length + 1];
        argv[0] = "stty";
        System.arraycopy(args, 0, argv, 1, args.length);
        try {
            Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.INHERIT)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes());
            return p.waitFor() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public void close() {
        if (saved != null) {
            stty(saved);
            try {
                Runtime.getRuntime().removeShutdownHook(restoreOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook is already running
            }
        }
    }
}
