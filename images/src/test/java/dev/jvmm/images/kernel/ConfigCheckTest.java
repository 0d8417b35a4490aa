package dev.jvmm.images.kernel;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigCheckTest {
    @Test
    void reportsOptionsThatDidNotStick() {
        String fragment = "# comment\nCONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=\"x\"\n";
        String config = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_D=\"x\"\n";
        assertEquals(List.of("CONFIG_B=y (got CONFIG_B=n)", "# CONFIG_C is not set (got CONFIG_C=y)"),
                ConfigCheck.unsatisfied(fragment, config));
    }

    @Test
    void theShippedFragmentAsksForWhatLaterWorkNeeds() {
        String fragment = new String(KernelBuilder.resource("x86_64.config"));
        for (String opt : List.of("CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y", "CONFIG_VIRTIO_BLK=y", "CONFIG_VIRTIO_NET=y",
                "CONFIG_VIRTIO_VSOCKETS=y", "CONFIG_HW_RANDOM_VIRTIO=y", "CONFIG_EXT4_FS=y", "CONFIG_EROFS_FS=y",
                "CONFIG_EFI_PARTITION=y", "CONFIG_DM_INIT=y", "CONFIG_DM_VERITY=y", "CONFIG_NAMESPACES=y",
                "CONFIG_CGROUPS=y", "CONFIG_ACPI=y")) {
            assertTrue(fragment.contains(opt + "\n"), opt);
        }
    }
}
