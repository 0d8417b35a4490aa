package dev.jvmm.boot.gpt;

/**
 * One GPT partition entry. {@code number} is its 1-based slot in the entry array (what
 * sgdisk -i and cgpt -i call it); LBAs are inclusive, as in the on-disk format.
 */
public record GptPartition(int number, Guid type, Guid unique, long firstLba, long lastLba, long attributes,
                           String name) {
    public long sizeBytes() {
        return (lastLba - firstLba + 1) * Gpt.SECTOR;
    }

    public long offsetBytes() {
        return firstLba * Gpt.SECTOR;
    }

    public GptPartition withAttributes(long attrs) {
        return new GptPartition(number, type, unique, firstLba, lastLba, attrs, name);
    }
}
