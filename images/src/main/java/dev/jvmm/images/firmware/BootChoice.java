package dev.jvmm.images.firmware;

import dev.jvmm.boot.ab.AbAttributes;
import dev.jvmm.images.disk.Layout;

import java.util.List;

/**
 * What one firmware pass decided: the slot, its A/B bits before and after the pass (the tries
 * decrement is already on the disk), the kernel (an arm64 Image.gz inflated, as GRUB hands it
 * over) and its command line as the boot loader built them, and the sectors jvmm fences while
 * that slot runs.
 *
 * @param gptNote one line when only one GPT copy was usable, else null
 */
public record BootChoice(Layout layout, String slot, String version, AbAttributes before, AbAttributes after,
                         byte[] kernel, String cmdline, List<SectorRange> protectedRanges, String gptNote) {
    /** A partition's sectors (512 bytes, inclusive), by its GPT name. */
    public record SectorRange(String name, long firstSector, long lastSector) {}

    /** {@code jvmm: boot N: bottlerocket slot B v2.0.0 (priority 2, tries 1->0, not yet successful)}. */
    public String describe(int pass) {
        String tries = before.triesLeft() == after.triesLeft() ? "tries " + before.triesLeft()
                : "tries " + before.triesLeft() + "->" + after.triesLeft();
        return "boot " + pass + ": " + layout.cliName() + " slot " + slot + " v" + version + " (priority "
                + before.priority() + (after.priority() != before.priority() ? "->" + after.priority() : "") + ", " + tries
                + ", " + (after.successful() ? "successful" : "not yet successful") + ")";
    }
}
