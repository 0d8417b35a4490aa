package dev.jvmm.machine;

import java.nio.file.Path;

/**
 * An image boot: the container-OS disk jvmm is the firmware of, and what to do with it once a
 * pass is ready. {@code disk} is attached as /dev/vda, read-write.
 *
 * @param exec       a shell command run in the guest through the agent once ready; jvmm exits with its status
 * @param updateFrom an image whose running slot is written into the inactive slot after the first ready pass
 * @param maxBoots   firmware passes at most (a guest reboot is the next pass)
 * @param note       how the disk came to be (a scratch copy of a compressed image), printed with the first pass
 */
public record ImageSpec(Path disk, String exec, Path updateFrom, int maxBoots, String note) {
    public static final int DEFAULT_MAX_BOOTS = 4;

    public ImageSpec {
        if (disk == null) {
            throw new IllegalArgumentException("an image boot needs its disk");
        }
        if (maxBoots < 1 || maxBoots > 64) {
            throw new IllegalArgumentException("--max-boots must be between 1 and 64, not " + maxBoots);
        }
    }
}
