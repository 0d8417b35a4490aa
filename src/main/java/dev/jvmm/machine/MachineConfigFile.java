package dev.jvmm.machine;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Properties;

/**
 * A {@link MachineConfig} as a Java properties file: how the lab hands a boot to the jvmm inside
 * L1 without the command-line parser, whose start-up costs seconds under TCG.
 */
public final class MachineConfigFile {
    private MachineConfigFile() {}

    public static String write(MachineConfig c) throws IOException {
        Properties p = new Properties();
        p.setProperty("kernel", c.kernel().toString());
        if (c.initrd() != null) {
            p.setProperty("initrd", c.initrd().toString());
        }
        p.setProperty("cmdline", c.cmdline());
        p.setProperty("memoryMib", Integer.toString(c.memoryMib()));
        p.setProperty("cpus", Integer.toString(c.cpus()));
        p.setProperty("timeoutSeconds", Integer.toString(c.timeoutSeconds()));
        p.setProperty("timeline", Boolean.toString(c.timeline()));
        p.setProperty("escapeKey", Boolean.toString(c.escapeKey()));
        StringWriter w = new StringWriter();
        p.store(w, "jvmm machine");
        return w.toString();
    }

    public static MachineConfig read(Reader r) throws IOException {
        Properties p = new Properties();
        p.load(r);
        String initrd = p.getProperty("initrd");
        try {
            return new MachineConfig(Path.of(required(p, "kernel")), initrd == null ? null : Path.of(initrd),
                    required(p, "cmdline"), Integer.parseInt(required(p, "memoryMib")), Integer.parseInt(required(p, "cpus")),
                    Integer.parseInt(required(p, "timeoutSeconds")), Boolean.parseBoolean(p.getProperty("timeline")),
                    Boolean.parseBoolean(p.getProperty("escapeKey")));
        } catch (NumberFormatException e) {
            throw new IOException("bad number in machine file: " + e.getMessage());
        }
    }

    private static String required(Properties p, String key) throws IOException {
        String v = p.getProperty(key);
        if (v == null) {
            throw new IOException("machine file lacks '" + key + "'");
        }
        return v;
    }
}
