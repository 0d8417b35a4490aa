package dev.jvmm.images.kernel;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Checks that every option a fragment asks for survived into the final .config. */
public final class ConfigCheck {
    private ConfigCheck() {}

    /** Lines of {@code fragment} (CONFIG_X=v or "# CONFIG_X is not set") that {@code config} contradicts. */
    public static List<String> unsatisfied(String fragment, String config) {
        Map<String, String> actual = parse(config);
        List<String> bad = new ArrayList<>();
        for (String line : fragment.split("\n")) {
            line = line.strip();
            String key;
            String want;
            if (line.startsWith("CONFIG_") && line.contains("=")) {
                key = line.substring(0, line.indexOf('='));
                want = line.substring(line.indexOf('=') + 1);
            } else if (line.startsWith("# CONFIG_") && line.endsWith(" is not set")) {
                key = line.substring(2, line.length() - " is not set".length());
                want = "n";
            } else {
                continue;
            }
            String got = actual.getOrDefault(key, "n");
            if (!got.equals(want)) {
                bad.add(line + " (got " + key + "=" + got + ")");
            }
        }
        return bad;
    }

    static Map<String, String> parse(String config) {
        Map<String, String> m = new HashMap<>();
        for (String line : config.split("\n")) {
            line = line.strip();
            if (line.startsWith("CONFIG_") && line.contains("=")) {
                m.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            } else if (line.startsWith("# CONFIG_") && line.endsWith(" is not set")) {
                m.put(line.substring(2, line.length() - " is not set".length()), "n");
            }
        }
        return m;
    }
}
