package dev.jvmm.e2e;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `jvmm boot` with no arguments, on a terminal (a pty from script(1)), typed at as a person
 * would: a command runs, Ctrl-C interrupts it inside the guest (the shell survives), and
 * Ctrl-A x quits with status 130.
 */
class InteractiveIT {
    private final ByteArrayOutputStream seen = new ByteArrayOutputStream();

    private String seen() {
        synchronized (seen) {
            return seen.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private void waitFor(String text, int fromIndex, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (seen().indexOf(text, fromIndex) >= 0) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no '" + text + "' within " + seconds + " s; console so far:\n" + seen());
    }

    @Test
    void typingCtrlCAndTheEscapeKey() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cmd = java + " -jar " + Jvmm.jar().toAbsolutePath() + " boot --timeout 400";
        Process p = new ProcessBuilder("script", "-q", "-e", "-c", cmd, "/dev/null").redirectErrorStream(true).start();
        Thread reader = new Thread(() -> {
            byte[] b = new byte[4096];
            try (InputStream in = p.getInputStream()) {
                int n;
                while ((n = in.read(b)) > 0) {
                    synchronized (seen) {
                        seen.write(b, 0, n);
                    }
                }
            } catch (java.io.IOException ignored) {
                // process ended
            }
        });
        reader.start();
        OutputStream keys = p.getOutputStream();
        try {
            waitFor("/ #", 0, 400);
            int mark = seen().length();
            keys.write("echo typed-$((6*7)); sleep 300\r".getBytes(StandardCharsets.US_ASCII));
            keys.flush();
            waitFor("typed-42", mark, 60);
            Thread.sleep(2000);
            mark = seen().length();
            keys.write(0x03); // Ctrl-C: for the guest's shell, not for jvmm
            keys.flush();
            waitFor("/ #", mark, 60);
            mark = seen().length();
            keys.write("echo still-$((1+1))\r".getBytes(StandardCharsets.US_ASCII));
            keys.flush();
            waitFor("still-2", mark, 60);
            keys.write(new byte[] {0x01, 'x'}); // Ctrl-A x
            keys.flush();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "jvmm quits on Ctrl-A x: " + seen());
            reader.join(5000);
            assertEquals(130, p.exitValue(), seen());
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }
}
