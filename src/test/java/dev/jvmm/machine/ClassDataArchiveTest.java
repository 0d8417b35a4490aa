package dev.jvmm.machine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The static archive dump that the launcher's training and the lab's bench share: whole or nothing, and a failure says why. */
class ClassDataArchiveTest {
    @TempDir
    Path dir;

    private Path emptyJar() throws IOException {
        Path jar = dir.resolve("app.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            j.flush();
        }
        return jar;
    }

    private List<String> filesIn(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void dumpsAnArchiveTheJvmStartsFrom() throws Exception {
        Path jar = emptyJar();
        Path list = Files.writeString(dir.resolve("classes.lst"), "java/lang/Object\njava/lang/String\n");
        Path archive = dir.resolve("out").resolve("app.jsa");
        Files.createDirectories(archive.getParent());
        JvmmCommand.ClassDataArchive.dump(JvmmCommand.javaBinary().toString(), List.of("-XX:+UseSerialGC"), list, jar,
                archive, 120);
        assertTrue(Files.size(archive) > 0);
        assertEquals(List.of("app.jsa"), filesIn(archive.getParent()), "no partial file left beside it");
        Process p = new ProcessBuilder(JvmmCommand.javaBinary().toString(), "-Xshare:on",
                "-XX:SharedArchiveFile=" + archive, "-XX:+UseSerialGC", "-version").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor(), "a JVM that insists on sharing starts from it");
    }

    @Test
    void aFailedDumpLeavesNothingAndSaysWhatTheJvmSaid() throws Exception {
        Path jar = emptyJar();
        Path list = Files.writeString(dir.resolve("classes.lst"), "java/lang/Object\n");
        Path archive = dir.resolve("out").resolve("app.jsa");
        Files.createDirectories(archive.getParent());
        IOException e = assertThrows(IOException.class, () -> JvmmCommand.ClassDataArchive.dump(
                JvmmCommand.javaBinary().toString(), List.of("-XX:+NoSuchOptionAnywhere"), list, jar, archive, 120));
        assertTrue(e.getMessage().contains("status 1"), e.getMessage());
        assertTrue(e.getMessage().contains("Could not create the Java Virtual Machine"), e.getMessage());
        assertFalse(Files.exists(archive));
        assertEquals(List.of(), filesIn(archive.getParent()), "no partial file left");
    }
}
