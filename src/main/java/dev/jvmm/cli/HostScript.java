package dev.jvmm.cli;

import dev.jvmm.lab.Lab;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * {@code --host-script} on the host (outside the lab): started with the VM, its output kept aside
 * and printed after the guest's, each line marked, so the two never interleave. It gets 20 s
 * after the VM stops, then is stopped.
 */
final class HostScript implements AutoCloseable {
    private final Process process;
    private final Path log;

    private HostScript(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code script} (null: nothing to start). */
    static HostScript start(Path script) throws IOException {
        if (script == null) {
            return new HostScript(null, null);
        }
        ProcessBuilder pb = new ProcessBuilder("sh", script.toString());
        // The script can run jvmm's own tools (vsock-check, ctl) as $JVMM.
        pb.environment().put("JVMM", Path.of(System.getProperty("java.home"), "bin", "java") + " -jar " + Lab.ownJarOrEmpty());
        Path log = Files.createTempFile("jvmm-host-script", ".log");
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(log.toFile()).redirectErrorStream(true).start();
        return new HostScript(p, log);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (process == null) {
            return;
        }
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroy();
            }
            int status = process.waitFor();
            for (String line : Files.readAllLines(log, StandardCharsets.ISO_8859_1)) {
                System.out.println("[host-script] " + line);
            }
            System.out.println("[host-script] exit status " + status);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
