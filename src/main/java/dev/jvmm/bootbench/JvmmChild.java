package dev.jvmm.bootbench;

import dev.jvmm.machine.DeviceSpecs;
import dev.jvmm.machine.ImageSpec;
import dev.jvmm.machine.JvmmCommand;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.MachineConfigFile;
import dev.jvmm.machine.arch.Discovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How the benchmark starts each jvmm it measures: the way jvmm itself is started where the
 * benchmark runs. On a host with KVM that is the launcher's way (`jvmm boot` through the command
 * line, the jvm-options list, the jar's class-data archive). Inside the lab's L1 it is the lab's
 * way (the inner JVM's options and its class-data archive, and a machine file read by
 * dev.jvmm.lab.InnerBoot, since L1's boots never go through the command-line parser); the lab's
 * init says so in JVMM_CHILD_JAVA and JVMM_CHILD_ARCHIVE (absent in the first lab run of a jar,
 * which records the classes L1 then archives).
 */
final class JvmmChild {
    static final String ENV_JAVA = "JVMM_CHILD_JAVA";
    static final String ENV_ARCHIVE = "JVMM_CHILD_ARCHIVE";

    private final Path jar;
    private final List<String> java;
    private final Path archive;
    private final boolean lab;

    private JvmmChild(Path jar, List<String> java, Path archive, boolean lab) {
        this.jar = jar;
        this.java = List.copyOf(java);
        this.archive = archive;
        this.lab = lab;
    }

    /** The way to start jvmm here: inside L1 when the lab's init set JVMM_CHILD_JAVA, else as the launcher does. */
    static JvmmChild here(Path jar) {
        String labJava = System.getenv(ENV_JAVA);
        if (labJava != null && !labJava.isBlank()) {
            String archive = System.getenv(ENV_ARCHIVE);
            return new JvmmChild(jar, Arrays.asList(labJava.trim().split("\\s+")),
                    archive == null || archive.isBlank() ? null : Path.of(archive), true);
        }
        List<String> java = new ArrayList<>();
        java.add(JvmmCommand.javaBinary().toString());
        java.addAll(JvmmCommand.jvmOptions());
        Path archive = JvmmCommand.ClassDataArchive.of(jar);
        return new JvmmChild(jar, java, JvmmCommand.ClassDataArchive.isCurrent(archive, jar) ? archive : null, false);
    }

    /** The command line of one run. */
    List<String> command(BenchSpec spec, Path disk, Path runDir) throws IOException {
        List<String> argv = new ArrayList<>(java);
        if (archive != null) {
            argv.add("-XX:SharedArchiveFile=" + archive);
        }
        argv.addAll(List.of("-cp", jar.toString()));
        if (!lab) {
            argv.add("dev.jvmm.cli.Main");
            argv.addAll(JvmmBootRun.arguments(spec, disk));
            return argv;
        }
        Path machine = runDir.resolve("machine.properties");
        Files.writeString(machine, MachineConfigFile.write(config(spec, disk)));
        argv.addAll(List.of("dev.jvmm.lab.InnerBoot", machine.toString()));
        return argv;
    }

    /** What `jvmm boot` would build from JvmmBootRun's arguments: the same machine, no devices but an image's own. */
    static MachineConfig config(BenchSpec spec, Path disk) {
        DeviceSpecs.Devices none = new DeviceSpecs.Devices(List.of(), List.of(), null, false, Discovery.auto);
        if (disk != null) {
            return new MachineConfig(null, null, "", spec.memoryMib(), spec.cpus(), spec.timeoutSeconds(), true, false,
                    none, null, new ImageSpec(disk, "true", null, 4, null));
        }
        return new MachineConfig(spec.kernel(), spec.initrd(), spec.cmdline(), spec.memoryMib(), spec.cpus(),
                spec.timeoutSeconds(), true, false, none, null);
    }
}
