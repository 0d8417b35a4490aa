package dev.jvmm.machine;

import dev.jvmm.images.Cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * How jvmm starts itself as a child process (jvmm smoke's boots, jvmm bench boot's runs) the way
 * the launcher script starts it: this JVM's java, the options in the jvm-options resource (one
 * list, read by the launcher from the source tree and by this class from the jar: serial GC and
 * C1 only, since a VMM's start-up and a short boot gain nothing from C2 and G1 but their threads
 * and memory), and the class-data archive of the jar, trained once per jar.
 */
public final class JvmmCommand {
    private JvmmCommand() {}

    /** The JVM options every jvmm process gets, before the archive's. */
    public static List<String> jvmOptions() {
        try (InputStream in = JvmmCommand.class.getResourceAsStream("jvm-options")) {
            if (in == null) {
                throw new IllegalStateException("the jvm-options resource is missing from jvmm's jar");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            return Arrays.asList(text.split("\\s+"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** java, options, archive (if trained) and {@code -cp JAR MAIN}: the start of a jvmm child's command line. */
    public static List<String> prefix(Path jar, String mainClass) {
        List<String> argv = new ArrayList<>();
        argv.add(javaBinary().toString());
        argv.addAll(jvmOptions());
        Path archive = ClassDataArchive.of(jar);
        if (ClassDataArchive.isCurrent(archive, jar)) {
            argv.add("-XX:SharedArchiveFile=" + archive);
        }
        argv.addAll(List.of("-cp", jar.toString(), mainClass));
        return argv;
    }

    public static Path javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    /**
     * jvmm's class-data archive (a static AppCDS archive: jvmm's classes and the JDK's, parsed and
     * verified once). Kept in the cache, named after the jar's path; current while newer than
     * both the jar and the java binary. A dynamic archive would be one step simpler, but JDK 17
     * leaves pre-Java-6 class files out of it, and picocli's are such.
     */
    public static final class ClassDataArchive {
        private ClassDataArchive() {}

        /**
         * Class-name prefixes every archive holds whole, on a host and in the labs: jvmm's own
         * classes and picocli's. Not the libraries only some boots use (Netty for vsock, Jackson for
         * --metrics, LZ4): a static archive maps and touches all it holds at every start, and with
         * them it was 37 MB and cost 60 ms and 17 MB of RSS before main on a host; those load from
         * the jar when a boot needs them.
         */
        public static final List<String> PACKAGES = List.of("dev/jvmm/", "picocli/");

        /** The classes of {@link #PACKAGES} in {@code jar}, binary names with '/' (a class list's form). */
        public static List<String> classNames(Path jar) throws IOException {
            List<String> names = new ArrayList<>();
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                for (ZipEntry e : Collections.list(zip.entries())) {
                    String n = e.getName();
                    if (n.endsWith(".class") && !n.startsWith("META-INF/") && !n.endsWith("module-info.class")
                            && (n.startsWith(PACKAGES.get(0)) || n.startsWith(PACKAGES.get(1)))) {
                        names.add(n.substring(0, n.length() - ".class".length()));
                    }
                }
            }
            return names;
        }

        public static Path of(Path jar) {
            return Cache.dir("cds").resolve(jar.toAbsolutePath().toString().replace('/', '_') + ".jsa");
        }

        public static boolean isCurrent(Path archive, Path jar) {
            try {
                long t = Files.getLastModifiedTime(archive).toMillis();
                return t > Files.getLastModifiedTime(jar).toMillis()
                        && t > Files.getLastModifiedTime(javaBinary().toRealPath()).toMillis();
            } catch (IOException e) {
                return false;
            }
        }

        /** Trains the archive for {@code jar} unless it is current (seconds, once per jar); returns it. */
        public static Path ensure(Path jar, PrintStream progress) throws IOException, InterruptedException {
            Path archive = of(jar);
            if (isCurrent(archive, jar)) {
                return archive;
            }
            progress.println("[jvmm] training the class-data archive for " + jar.getFileName() + " (once per build)");
            Files.createDirectories(archive.getParent());
            Path classes = Files.createTempFile(archive.getParent(), "classes", ".lst");
            try {
                run(List.of(javaBinary().toString(), "-XX:DumpLoadedClassList=" + classes, "-cp", jar.toString(),
                        "dev.jvmm.cli.ClassDataTraining"), TRAINING_SECONDS);
                dump(javaBinary().toString(), List.of(), classes, jar, archive, TRAINING_SECONDS);
            } finally {
                Files.deleteIfExists(classes);
            }
            return archive;
        }

        /**
         * Dumps a static archive of the classes named in {@code classList} (with {@code options}
         * for the dumping JVM) to {@code archive}: written beside it and renamed, so it is there
         * whole or not at all. Used by the launcher's training and by jvmm bench boot inside L1.
         */
        public static void dump(String java, List<String> options, Path classList, Path jar, Path archive,
                                long timeoutSeconds) throws IOException, InterruptedException {
            Path partial = Files.createTempFile(archive.toAbsolutePath().getParent(), "archive", ".partial");
            try {
                List<String> argv = new ArrayList<>(List.of(java, "-Xshare:dump"));
                argv.addAll(options);
                argv.addAll(List.of("-XX:SharedClassListFile=" + classList, "-XX:SharedArchiveFile=" + partial,
                        "-Xlog:cds=off", "-cp", jar.toString()));
                run(argv, timeoutSeconds);
                Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(partial);
            }
        }

        private static final long TRAINING_SECONDS = 120;

        /** The JVM's first error line, else its last line (as L1's init reports a failed dump). */
        private static String reason(List<String> lines) {
            for (String l : lines) {
                if (l.toLowerCase(Locale.ROOT).contains("error")) {
                    return ": " + l;
                }
            }
            return lines.isEmpty() ? "" : ": " + lines.get(lines.size() - 1);
        }

        /** Runs one step; a failure says its status and why, as the JVM put it. */
        private static void run(List<String> argv, long timeoutSeconds) throws IOException, InterruptedException {
            Path output = Files.createTempFile("jvmm-cds", ".log");
            try {
                Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(output.toFile()).start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor();
                    throw new IOException("class-data training did not finish in " + timeoutSeconds + " s: "
                            + String.join(" ", argv));
                }
                if (p.exitValue() != 0) {
                    throw new IOException("class-data training failed (status " + p.exitValue() + "): "
                            + String.join(" ", argv) + reason(Files.readAllLines(output, StandardCharsets.ISO_8859_1)));
                }
            } finally {
                Files.deleteIfExists(output);
            }
        }
    }
}
