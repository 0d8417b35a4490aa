package dev.jvmm.bootbench;

import dev.jvmm.machine.DeviceSpecs;
import dev.jvmm.machine.ImageSpec;
import dev.jvmm.machine.JvmmCommand;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.MachineConfigFile;
import dev.jvmm.machine.arch.Discovery;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * How the benchmark starts each jvmm it measures: the way jvmm itself is started where the
 * benchmark runs. On a host with KVM that is the launcher's way (`jvmm boot` through the command
 * line, the jvm-options list, the jar's class-data archive). Inside the lab's L1 it is the lab's
 * way (the inner JVM's options and its class-data archive, and a machine file read by
 * dev.jvmm.lab.InnerBoot, since L1's boots never go through the command-line parser); the lab's
 * init says so in JVMM_CHILD_JAVA and JVMM_CHILD_ARCHIVE. In the first lab run of a jar there is
 * no archive yet (JVMM_CHILD_TRAIN names the one to make): the first jvmm records the classes a
 * boot loads (a run not counted at all), and the benchmark dumps the archive from them before
 * the measured runs, so that these start as a later lab boot would; L1's init carries it out.
 */
final class JvmmChild {
    static final String ENV_JAVA = "JVMM_CHILD_JAVA";
    static final String ENV_ARCHIVE = "JVMM_CHILD_ARCHIVE";
    /** The archive to make from the first run's classes (the lab's first run of a jar). */
    static final String ENV_TRAIN = "JVMM_CHILD_TRAIN";

    private final Path jar;
    private final List<String> java;
    private Path archive;
    private final Path train;
    private Path classList;
    private final boolean lab;

    private JvmmChild(Path jar, List<String> java, Path archive, Path train, boolean lab) {
        this.jar = jar;
        this.java = List.copyOf(java);
        this.archive = archive;
        this.train = train;
        this.lab = lab;
    }

    /** The way to start jvmm here: inside L1 when the lab's init set JVMM_CHILD_JAVA, else as the launcher does. */
    static JvmmChild here(Path jar) {
        String labJava = System.getenv(ENV_JAVA);
        if (labJava != null && !labJava.isBlank()) {
            return new JvmmChild(jar, Arrays.asList(labJava.trim().split("\\s+")), pathFromEnv(ENV_ARCHIVE),
                    pathFromEnv(ENV_TRAIN), true);
        }
        List<String> java = new ArrayList<>();
        java.add(JvmmCommand.javaBinary().toString());
        java.addAll(JvmmCommand.jvmOptions());
        Path archive = JvmmCommand.ClassDataArchive.of(jar);
        return new JvmmChild(jar, java, JvmmCommand.ClassDataArchive.isCurrent(archive, jar) ? archive : null, null,
                false);
    }

    private static Path pathFromEnv(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? null : Path.of(v.trim());
    }

    /** Whether the next run only records the classes of the archive to make (and is not counted). */
    boolean trainsNext() {
        return train != null && archive == null && classList == null;
    }

    /**
     * Dumps the archive from the classes the training run recorded and all of jvmm's own (as L1's
     * init does after a boot's first run: L1Init.STATIC_ARCHIVE_DUMP); the runs after it start
     * from it. A failed dump leaves them without one, and says why.
     */
    void dumpArchive(Path workDir, PrintStream log) throws InterruptedException {
        if (classList == null || !Files.isRegularFile(classList)) {
            log.println("jvmm: bench: the training run recorded no classes; no class-data archive this run");
            return;
        }
        try {
            Set<String> names = new LinkedHashSet<>(Files.readAllLines(classList));
            names.addAll(JvmmCommand.ClassDataArchive.classNames(jar));
            names.remove("");
            Path merged = workDir.resolve("archived-classes.lst");
            Files.write(merged, names);
            JvmmCommand.ClassDataArchive.dump(java.get(0), List.of("-XX:+UseSerialGC"), merged, jar, train, 300);
            archive = train;
        } catch (IOException e) {
            log.println("jvmm: bench: no class-data archive this run: " + e.getMessage());
        }
    }

    /** The command line of one run. */
    List<String> command(BenchSpec spec, Path disk, Path runDir) throws IOException {
        List<String> argv = new ArrayList<>(java);
        if (trainsNext()) {
            classList = runDir.getParent().resolve("training-classes.lst");
            argv.add("-XX:DumpLoadedClassList=" + classList);
        } else if (archive != null) {
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
                    none, null, new ImageSpec(disk, "true", null, 4, null)).withUnpackKernel(spec.unpackKernel());
        }
        return new MachineConfig(spec.kernel(), spec.initrd(), spec.cmdline(), spec.memoryMib(), spec.cpus(),
                spec.timeoutSeconds(), true, false, none, null).withUnpackKernel(spec.unpackKernel());
    }
}
