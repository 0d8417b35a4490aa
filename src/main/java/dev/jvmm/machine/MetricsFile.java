package dev.jvmm.machine;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jvmm.vmm.vcpu.StopReason;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --metrics FILE}: how the VM stopped, every device's counters and, for image boots,
 * one entry per firmware pass; written once, when jvmm is done with the VM.
 */
final class MetricsFile {
    private MetricsFile() {}

    static void write(Path file, StopReason reason, Map<String, Map<String, Long>> devices,
                      List<Map<String, Object>> boots, PrintStream err) {
        if (file == null) {
            return;
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("stop", reason == null ? "error" : reason.kind().name().toLowerCase(Locale.ROOT));
        doc.put("exit_status", reason == null ? ExitCodes.INTERNAL_ERROR : ExitCodes.of(reason));
        doc.put("devices", devices);
        if (boots != null) {
            doc.put("boots", boots);
        }
        try {
            // One line: the lab carries it out of L1 as a console marker.
            new ObjectMapper().writeValue(file.toFile(), doc);
        } catch (IOException e) {
            err.println("\r\njvmm: cannot write --metrics " + file + ": " + e.getMessage() + "\r");
        }
    }
}
