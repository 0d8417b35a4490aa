package dev.jvmm.images.kernel;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-architecture kernel recipes: which fragment and script each uses, what the aarch64
 * fragment asks for, and that x86_64's recipe (and so its cache key) is what it was.
 */
class KernelRecipeTest {
    static String text(String resource) {
        return new String(KernelBuilder.resource(resource), StandardCharsets.UTF_8);
    }

    @Test
    void theAarch64FragmentAsksForWhatTheArm64GuestNeeds() {
        String fragment = text("aarch64.config");
        for (String opt : List.of(
                // the device tree platform jvmm describes
                "CONFIG_OF=y", "CONFIG_ARM_GIC=y", "CONFIG_ARM_GIC_V3=y", "CONFIG_ARM_ARCH_TIMER=y", "CONFIG_ARM_PSCI_FW=y",
                "CONFIG_SERIAL_8250=y", "CONFIG_SERIAL_8250_CONSOLE=y", "CONFIG_SERIAL_OF_PLATFORM=y",
                "CONFIG_RTC_DRV_PL031=y", "CONFIG_ARM_AMBA=y", "CONFIG_COMMON_CLK=y", "CONFIG_ARM64_4K_PAGES=y",
                // the same later work as x86 needs
                "CONFIG_VIRTIO_MMIO=y", "CONFIG_VIRTIO_BLK=y", "CONFIG_VIRTIO_NET=y", "CONFIG_VIRTIO_VSOCKETS=y",
                "CONFIG_HW_RANDOM_VIRTIO=y", "CONFIG_DEVMEM=y", "CONFIG_EXT4_FS=y", "CONFIG_EROFS_FS=y",
                "CONFIG_EFI_PARTITION=y", "CONFIG_DM_INIT=y", "CONFIG_DM_VERITY=y", "CONFIG_NAMESPACES=y",
                "CONFIG_CGROUPS=y", "CONFIG_PRINTK_TIME=y", "CONFIG_BLK_DEV_INITRD=y")) {
            assertTrue(fragment.contains(opt + "\n"), opt);
        }
        for (String x86Only : List.of("CONFIG_ACPI", "CONFIG_PCI", "CONFIG_SERIO_I8042", "CONFIG_KVM_GUEST",
                "CONFIG_EARLY_PRINTK")) {
            assertFalse(fragment.contains(x86Only + "="), x86Only + " is x86's");
        }
    }

    /** Every option of the x86 fragment that is not about x86's platform is in the arm64 one too. */
    @Test
    void theAarch64FragmentKeepsTheX86FragmentsIntent() {
        List<String> x86Platform = List.of("CONFIG_EARLY_PRINTK", "CONFIG_HYPERVISOR_GUEST", "CONFIG_PARAVIRT",
                "CONFIG_KVM_GUEST", "CONFIG_ACPI", "CONFIG_PCI", "CONFIG_INPUT", "CONFIG_SERIO", "CONFIG_SERIO_I8042");
        String arm = text("aarch64.config");
        List<String> missing = new ArrayList<>();
        for (String line : text("x86_64.config").split("\n")) {
            if (line.startsWith("CONFIG_") && !x86Platform.contains(line.substring(0, line.indexOf('=')))
                    && !arm.contains(line + "\n")) {
                missing.add(line);
            }
        }
        assertEquals(List.of(), missing);
    }

    @Test
    void eachArchitectureHasItsScriptAndBootImage() {
        KernelBuilder x86 = new KernelBuilder("x86_64");
        KernelBuilder arm = new KernelBuilder("aarch64");
        assertEquals("build-kernel.sh", x86.scriptName(), "x86 keeps its script, so its cache key is unchanged");
        assertEquals("build-kernel-aarch64.sh", arm.scriptName());
        assertEquals("bzImage", KernelBuilder.bootImageName("x86_64"));
        assertEquals("Image", KernelBuilder.bootImageName("aarch64"));
        String script = text("build-kernel-aarch64.sh");
        assertTrue(script.contains("ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"), "cross-compiles");
        assertTrue(script.contains("vmlinux Image Image.gz"), "builds the Image and its gzip form");
    }

    @Test
    void theBuiltRecordNamesItsImage() {
        KernelBuilder.Built arm = new KernelBuilder.Built("aarch64", Path.of("/k/vmlinux"),
                Path.of("/k/Image"), Path.of("/k/config"), true);
        assertEquals("Image", arm.imageName());
        IllegalStateException e = assertThrows(IllegalStateException.class, arm::bzImage);
        assertEquals("aarch64 kernels have no bzImage; use image() (Image)", e.getMessage());
        KernelBuilder.Built x86 = new KernelBuilder.Built("x86_64", Path.of("/k/vmlinux"),
                Path.of("/k/bzImage"), Path.of("/k/config"), true);
        assertEquals(Path.of("/k/bzImage"), x86.bzImage());
        assertEquals("bzImage", x86.imageName());
    }

    @Test
    void unknownArchitecturesAreRefusedInOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new KernelBuilder("riscv64"));
        assertEquals("kernel recipes exist for x86_64 and aarch64 only, not riscv64", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new KernelBuilder("arm64"), "the Debian name is not the recipe's");
    }
}
