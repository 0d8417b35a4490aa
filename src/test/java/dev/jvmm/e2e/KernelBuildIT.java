package dev.jvmm.e2e;

import dev.jvmm.images.kernel.ConfigCheck;
import dev.jvmm.images.kernel.KernelBuilder;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelBuildIT {
    @Test
    void buildPrintsBothImagesAndEveryFragmentOptionSticks() throws Exception {
        Path[] k = Jvmm.kernel();
        assertTrue(k[0] != null && k[0].isAbsolute() && Files.isRegularFile(k[0]), "vmlinux line: " + k[0]);
        assertTrue(k[1] != null && k[1].isAbsolute() && Files.isRegularFile(k[1]), "bzImage line: " + k[1]);
        String config = Files.readString(k[0].resolveSibling("config"));
        String fragment = new String(KernelBuilder.resource("x86_64.config"));
        List<String> bad = ConfigCheck.unsatisfied(fragment, config);
        assertEquals(List.of(), bad, "fragment options missing from the final .config");
        Jvmm.Result again = Jvmm.run(60, "kernel", "build");
        assertEquals(0, again.status());
        assertTrue(again.millis() < 30_000, "second call reuses the cache");
    }
}
