package dev.jvmm.build;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The build's rewrite of picocli's class files, on the real picocli jar jvmm ships. */
class ClassFileUpgradeTest {
    @TempDir
    Path dir;

    private Path picocliCopy() throws Exception {
        Path jar = Path.of(CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path copy = dir.resolve("picocli.jar");
        Files.copy(jar, copy);
        return copy;
    }

    private static Map<String, byte[]> read(Path jar) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            Enumeration<? extends ZipEntry> e = zip.entries();
            while (e.hasMoreElements()) {
                ZipEntry entry = e.nextElement();
                try (InputStream in = zip.getInputStream(entry)) {
                    entries.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        return entries;
    }

    @Test
    void picocliIsCompiledForJava5AndEveryClassComesOutAtVersion52() throws Exception {
        Path jar = picocliCopy();
        Map<String, byte[]> before = read(jar);
        assertEquals(49, ClassFileUpgrade.majorVersion(before.get("picocli/CommandLine.class"), "CommandLine"),
                "picocli's own jar is Java 5 class files (what this build step exists for)");

        int n = ClassFileUpgrade.upgrade(jar, List.of("picocli/"));

        Map<String, byte[]> after = read(jar);
        assertEquals(new ArrayList<>(before.keySet()), new ArrayList<>(after.keySet()), "same entries, same order");
        int classes = 0;
        for (Map.Entry<String, byte[]> e : after.entrySet()) {
            if (e.getKey().endsWith(".class") && !e.getKey().endsWith("module-info.class")) {
                classes++;
                assertEquals(52, ClassFileUpgrade.majorVersion(e.getValue(), e.getKey()), e.getKey());
            } else {
                assertArrayEquals(before.get(e.getKey()), e.getValue(), e.getKey() + " is copied as it was");
            }
        }
        assertEquals(classes, n);
        assertTrue(n > 100, "picocli has a few hundred classes, not " + n);
    }

    @Test
    void everyRewrittenClassPassesTheTypeCheckingVerifierAndPicocliStillParses() throws Exception {
        Path jar = picocliCopy();
        ClassFileUpgrade.upgrade(jar, List.of("picocli/"));
        try (URLClassLoader loader = new URLClassLoader(new URL[]{jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
             ZipFile zip = new ZipFile(jar.toFile())) {
            Enumeration<? extends ZipEntry> e = zip.entries();
            int linked = 0;
            while (e.hasMoreElements()) {
                String name = e.nextElement().getName();
                if (name.endsWith(".class") && !name.endsWith("module-info.class")) {
                    // Initialising links the class, and linking a class from a non-boot loader
                    // verifies it: a wrong frame would throw VerifyError here.
                    Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), true, loader);
                    linked++;
                }
            }
            assertTrue(linked > 100);

            // And it still works: a command with an int option and a negatable flag, parsed.
            Class<?> specClass = Class.forName("picocli.CommandLine$Model$CommandSpec", true, loader);
            Class<?> optionClass = Class.forName("picocli.CommandLine$Model$OptionSpec", true, loader);
            Object spec = specClass.getMethod("create").invoke(null);
            Object countBuilder = builder(optionClass, "--count");
            call(countBuilder, "type", Class.class, int.class);
            Object flagBuilder = builder(optionClass, "--rng");
            call(flagBuilder, "type", Class.class, boolean.class);
            call(flagBuilder, "negatable", boolean.class, true);
            Method add = specClass.getMethod("addOption", optionClass);
            add.invoke(spec, call(countBuilder, "build", null, null));
            add.invoke(spec, call(flagBuilder, "build", null, null));
            Class<?> cl = Class.forName("picocli.CommandLine", true, loader);
            Object commandLine = cl.getConstructor(Object.class).newInstance(spec);
            cl.getMethod("parseArgs", String[].class).invoke(commandLine, (Object) new String[]{"--count", "42", "--no-rng"});
            Object countOption = specClass.getMethod("findOption", String.class).invoke(spec, "--count");
            Object rngOption = specClass.getMethod("findOption", String.class).invoke(spec, "--rng");
            assertEquals(42, optionClass.getMethod("getValue").invoke(countOption));
            assertEquals(false, optionClass.getMethod("getValue").invoke(rngOption));
        }
    }

    /** A public method of picocli's builders, some declared in its package-private super classes. */
    private static Object call(Object target, String name, Class<?> type, Object arg) throws Exception {
        Method m = type == null ? target.getClass().getMethod(name) : target.getClass().getMethod(name, type);
        m.setAccessible(true);
        return type == null ? m.invoke(target) : m.invoke(target, arg);
    }

    private static Object builder(Class<?> optionClass, String name) throws Exception {
        return optionClass.getMethod("builder", String.class, String[].class).invoke(null, name, new String[0]);
    }

    @Test
    void aSecondRunFindsNothingToDoAndLeavesTheJarAlone() throws Exception {
        Path jar = picocliCopy();
        ClassFileUpgrade.upgrade(jar, List.of("picocli/"));
        byte[] once = Files.readAllBytes(jar);
        assertEquals(0, ClassFileUpgrade.upgrade(jar, List.of("picocli/")));
        assertArrayEquals(once, Files.readAllBytes(jar));
    }

    @Test
    void classesOutsideTheNamedPackagesAreNotTouched() throws Exception {
        Path jar = picocliCopy();
        byte[] before = Files.readAllBytes(jar);
        assertEquals(0, ClassFileUpgrade.upgrade(jar, List.of("org/example/")));
        assertArrayEquals(before, Files.readAllBytes(jar));
    }

    @Test
    void aCorruptClassStopsTheBuildByNameAndLeavesTheJarAsItWas() throws Exception {
        Path jar = dir.resolve("bad.jar");
        byte[] truncated = {(byte) 0xCA, (byte) 0xFE, (byte) 0xBA, (byte) 0xBE, 0, 0, 0, 49, 0, 7};
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new ZipEntry("picocli/Broken.class"));
            out.write(truncated);
            out.closeEntry();
            out.putNextEntry(new ZipEntry("picocli/NotAClass.class"));
            out.write(new byte[]{1, 2, 3});
            out.closeEntry();
        }
        byte[] before = Files.readAllBytes(jar);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClassFileUpgrade.upgrade(jar, List.of("picocli/")));
        assertTrue(e.getMessage().contains("picocli/Broken.class"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(jar));
        assertEquals(List.of("bad.jar"), list(dir), "no partial file left behind");
    }

    private static List<String> list(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.forEach(p -> names.add(p.getFileName().toString()));
        }
        names.sort(null);
        return names;
    }
}
