package dev.jvmm.images.disk;

import dev.jvmm.boot.verity.VerityTree;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel command line jvmm's own Bottlerocket-layout image carries. */
class ImageBuilderCmdlineTest {
    @Test
    void jvmmsBottlerocketGrubCfgHasNoWordJvmmsKernelWouldCallUnknown() {
        String cfg = ImageBuilder.bottlerocketGrubCfg("1.0.0",
                new VerityTree.Params(2560, new byte[32], new byte[32], new byte[16]));
        assertTrue(cfg.contains("rootwait ro rootfstype=erofs"), cfg);
        assertFalse(cfg.contains("raid="), "jvmm's kernel has no MD autodetect: " + cfg);
    }
}
