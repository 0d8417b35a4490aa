package dev.jvmm.machine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's memory as the kernel counts it (/proc/self/status), for the timeline's memory line. */
final class ProcessMemory {
    private ProcessMemory() {}

    /** VmHWM: the peak resident set so far, in KiB; -1 if unreadable. */
    static long peakRssKib() {
        return statusField("VmHWM:");
    }

    static long statusField(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) {
                    return Long.parseLong(line.substring(name.length()).replace("kB", "").trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
