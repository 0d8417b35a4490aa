package dev.jvmm.machine;

import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Discovery;

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
        if (c.kernel() != null) {
            p.setProperty("kernel", c.kernel().toString());
        }
        ImageSpec image = c.image();
        if (image != null) {
            p.setProperty("image.disk", image.disk().toString());
            p.setProperty("image.maxBoots", Integer.toString(image.maxBoots()));
            if (image.exec() != null) {
                p.setProperty("image.exec", image.exec());
            }
            if (image.updateFrom() != null) {
                p.setProperty("image.updateFrom", image.updateFrom().toString());
            }
            if (image.note() != null) {
                p.setProperty("image.note", image.note());
            }
        }
        if (c.initrd() != null) {
            p.setProperty("initrd", c.initrd().toString());
        }
        p.setProperty("arch", c.arch().name());
        p.setProperty("cmdline", c.cmdline());
        p.setProperty("memoryMib", Integer.toString(c.memoryMib()));
        p.setProperty("cpus", Integer.toString(c.cpus()));
        p.setProperty("timeoutSeconds", Integer.toString(c.timeoutSeconds()));
        p.setProperty("timeline", Boolean.toString(c.timeline()));
        p.setProperty("unpackKernel", Boolean.toString(c.unpackKernel()));
        p.setProperty("escapeKey", Boolean.toString(c.escapeKey()));
        var d = c.devices();
        for (int i = 0; i < d.drives().size(); i++) {
            p.setProperty("drive." + i, d.drives().get(i).spec());
        }
        for (int i = 0; i < d.nets().size(); i++) {
            p.setProperty("net." + i, d.nets().get(i).spec());
        }
        if (d.vsock() != null) {
            p.setProperty("vsock", d.vsock().spec());
        }
        p.setProperty("rng", Boolean.toString(d.rng()));
        p.setProperty("virtioDiscovery", d.discovery().name());
        if (c.metricsFile() != null) {
            p.setProperty("metrics", c.metricsFile().toString());
        }
        StringWriter w = new StringWriter();
        p.store(w, "jvmm machine");
        return w.toString();
    }

    public static MachineConfig read(Reader r) throws IOException {
        Properties p = new Properties();
        p.load(r);
        String initrd = p.getProperty("initrd");
        try {
            String kernel = p.getProperty("kernel");
            return new MachineConfig(kernel == null ? null : Path.of(kernel), initrd == null ? null : Path.of(initrd),
                    required(p, "cmdline"), Integer.parseInt(required(p, "memoryMib")), Integer.parseInt(required(p, "cpus")),
                    Integer.parseInt(required(p, "timeoutSeconds")), Boolean.parseBoolean(p.getProperty("timeline")),
                    Boolean.parseBoolean(p.getProperty("escapeKey")), devices(p),
                    p.getProperty("metrics") == null ? null : Path.of(p.getProperty("metrics")), image(p),
                    arch(p), !"false".equals(p.getProperty("unpackKernel")));
        } catch (NumberFormatException e) {
            throw new IOException("bad number in machine file: " + e.getMessage());
        }
    }

    /** The guest's architecture; a file from before the key existed is the host's. */
    private static Arch arch(Properties p) throws IOException {
        String a = p.getProperty("arch");
        try {
            return a == null ? null : Arch.parse(a);
        } catch (IllegalArgumentException e) {
            throw new IOException("machine file: " + e.getMessage());
        }
    }

    private static ImageSpec image(Properties p) {
        String disk = p.getProperty("image.disk");
        if (disk == null) {
            return null;
        }
        String update = p.getProperty("image.updateFrom");
        return new ImageSpec(Path.of(disk), p.getProperty("image.exec"), update == null ? null : Path.of(update),
                Integer.parseInt(p.getProperty("image.maxBoots", Integer.toString(ImageSpec.DEFAULT_MAX_BOOTS))),
                p.getProperty("image.note"));
    }

    private static DeviceSpecs.Devices devices(Properties p) {
        java.util.List<DeviceSpecs.Drive> drives = new java.util.ArrayList<>();
        for (int i = 0; p.getProperty("drive." + i) != null; i++) {
            drives.add(DeviceSpecs.Drive.parse(p.getProperty("drive." + i)));
        }
        java.util.List<DeviceSpecs.Net> nets = new java.util.ArrayList<>();
        for (int i = 0; p.getProperty("net." + i) != null; i++) {
            nets.add(DeviceSpecs.Net.parse(p.getProperty("net." + i)));
        }
        String vsock = p.getProperty("vsock");
        return new DeviceSpecs.Devices(drives, nets, vsock == null ? null : DeviceSpecs.Vsock.parse(vsock),
                !"false".equals(p.getProperty("rng")), Discovery.valueOf(p.getProperty("virtioDiscovery", "auto")));
    }

    private static String required(Properties p, String key) throws IOException {
        String v = p.getProperty(key);
        if (v == null) {
            throw new IOException("machine file lacks '" + key + "'");
        }
        return v;
    }
}
