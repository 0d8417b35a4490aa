package dev.jvmm.cli;

import dev.jvmm.lab.Lab;
import dev.jvmm.machine.JvmmCommand;
import dev.jvmm.smoke.Smoke;
import dev.jvmm.smoke.SmokePlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

@Command(name = "smoke", mixinStandardHelpOptions = true,
        description = {"Smoke-boot container-OS images, as CI does for every build.",
                "Each image boots in a jvmm boot of its own on a scratch copy (never the image itself); it passes when it"
                        + " becomes ready and its slot is marked successful within --timeout (and --exec exits 0, and the"
                        + " console matches --expect).",
                "Prints a line per image as it finishes and a summary; exit status 0 only if every image passed."})
final class SmokeCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "images (.img or .img.lz4, either layout)")
    List<Path> images = new ArrayList<>();

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "1", description = "boots at once (default ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--timeout", paramLabel = "SEC", defaultValue = "300",
            description = "per firmware pass, as jvmm boot --timeout (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = "--exec", paramLabel = "CMD", defaultValue = "true",
            description = "run in each guest once ready; must exit 0 (default: ${DEFAULT-VALUE})")
    String exec;

    @Option(names = "--expect", paramLabel = "REGEX", description = "the console must match REGEX")
    String expect;

    @Option(names = "--junit", paramLabel = "FILE", description = "write JUnit XML (one testsuite, a testcase per image)")
    Path junit;

    @Option(names = "--json", paramLabel = "FILE", description = "write the results as JSON")
    Path json;

    @Option(names = "--in-place", description = "boot the images themselves, not scratch copies (their A/B state changes)")
    boolean inPlace;

    @Option(names = "--lab", paramLabel = "MODE", defaultValue = "auto", description = "as for jvmm boot: auto, always, never")
    LabMode lab;

    @Override
    public Integer call() throws Exception {
        for (Path p : images) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("image " + p + ": no such file");
            }
        }
        Pattern pattern;
        try {
            pattern = expect == null ? null : Pattern.compile(expect);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("--expect is not a regular expression: " + e.getDescription());
        }
        if (timeoutSeconds < 1) {
            throw new IllegalArgumentException("--timeout must be at least 1 second");
        }
        String jar = Lab.ownJarOrEmpty();
        if (jar.isEmpty()) {
            throw new IllegalStateException("jvmm smoke runs jvmm's packaged jar for each boot; run it through ./jvmm");
        }
        // Each boot starts as the launcher starts jvmm: its JVM options and the jar's class-data archive.
        JvmmCommand.ClassDataArchive.ensure(Path.of(jar), System.err);
        List<String> jvmm = JvmmCommand.prefix(Path.of(jar), Main.class.getName());
        SmokePlan plan = new SmokePlan(jvmm, timeoutSeconds, exec, pattern, inPlace, List.of("--lab=" + lab),
                Path.of(System.getProperty("java.io.tmpdir")));
        Smoke.Report report = Smoke.run(images, parallel, plan, System.out);
        if (junit != null) {
            Smoke.writeJunit(report, junit);
        }
        if (json != null) {
            Smoke.writeJson(report, json);
        }
        return report.allPassed() ? 0 : 1;
    }
}
