package dev.jvmm.boot.ab;

/** One A/B slot as a scheme sees it: its name ("A"/"B"), the GPT entry number carrying its bits, and the bits. */
public record Slot(String name, int partitionNumber, AbAttributes attrs) {
    public Slot with(AbAttributes a) {
        return new Slot(name, partitionNumber, a);
    }
}
