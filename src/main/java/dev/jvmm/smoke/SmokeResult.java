package dev.jvmm.smoke;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One image's smoke boot: PASS when it became ready and its slot was marked successful (and
 * --exec exited 0 and the console matched --expect), else FAIL with the reason in words.
 *
 * @param readyMs the marked pass's "guest ready" in ms since its jvmm started (inner jvmm in the lab), or null
 * @param log     what the boot printed, console and jvmm's lines (kept for a failure's report)
 */
public record SmokeResult(String image, boolean passed, String reason, String slot, String version, Long readyMs,
                          long wallMs, int status, String log) {
    /** {@code PASS br.img slot A v1.0.0 ready 16.6 s (24.2 s)} or {@code FAIL bad.img: reason (…)}. */
    public String line() {
        String where = slot == null ? "" : " slot " + slot + " v" + version;
        String ready = readyMs == null ? "" : String.format(" ready %.1f s", readyMs / 1000.0);
        String wall = String.format(" (%.1f s)", wallMs / 1000.0);
        return passed ? "PASS " + image + where + ready + wall : "FAIL " + image + where + ": " + reason + wall;
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("image", image);
        m.put("result", passed ? "pass" : "fail");
        m.put("reason", reason);
        m.put("slot", slot);
        m.put("version", version);
        m.put("ready_ms", readyMs);
        m.put("wall_ms", wallMs);
        m.put("exit_status", status);
        return m;
    }
}
