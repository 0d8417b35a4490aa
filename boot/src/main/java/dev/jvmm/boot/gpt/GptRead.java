package dev.jvmm.boot.gpt;

/**
 * What {@link Gpt#readRecovering} found on a disk: the table to use, the copy it came from and
 * how the two copies stand. It exists so that a reader (a firmware, {@code jvmm image status})
 * can go on from one good copy, as UEFI firmware does, while saying plainly that the disk
 * needs repair: print {@link #description()} when {@link #needsRepair()}.
 *
 * @param gpt     the table to use
 * @param source  the copy {@code gpt} was read from
 * @param state   how the two copies stand
 * @param problem what is wrong with the copy not used, one line; null when both are valid and agree
 */
public record GptRead(Gpt gpt, Copy source, State state, String problem) {
    /** The two places a GPT is kept: LBA 1 and the disk's last LBA. */
    public enum Copy {
        PRIMARY, BACKUP;

        public String label() {
            return this == PRIMARY ? "primary" : "backup";
        }
    }

    /** How the two copies stand. */
    public enum State {
        /** Both copies are valid and identical: nothing to repair. */
        BOTH_VALID,
        /** The backup is missing or damaged; the primary is used. */
        PRIMARY_ONLY,
        /** The primary is missing or damaged; the backup is used. */
        BACKUP_ONLY,
        /**
         * Both copies are valid but differ: an update stopped between the copies. The backup is
         * used, as the newer: {@link Gpt#write} writes and forces the whole backup before it
         * touches the primary, so a valid primary that differs is the one left behind.
         */
        BOTH_VALID_DISAGREE
    }

    public GptRead {
        if (gpt == null || source == null || state == null || (state == State.BOTH_VALID) != (problem == null)) {
            throw new IllegalArgumentException("inconsistent GPT read result: " + state + " " + source + " " + problem);
        }
        if (source != (state == State.BOTH_VALID || state == State.PRIMARY_ONLY ? Copy.PRIMARY : Copy.BACKUP)) {
            throw new IllegalArgumentException("state " + state + " is not read from the " + source.label() + " copy");
        }
    }

    /** True unless both copies are valid and agree; {@link Gpt#repair} makes them so. */
    public boolean needsRepair() {
        return state != State.BOTH_VALID;
    }

    /** One line: the state, the problem with the other copy and which copy is used. */
    public String description() {
        return switch (state) {
            case BOTH_VALID -> "both GPT copies are valid and agree";
            case PRIMARY_ONLY, BACKUP_ONLY -> problem + "; using the " + source.label() + " copy";
            case BOTH_VALID_DISAGREE -> problem + "; using the backup, the newer copy (jvmm writes it first)";
        };
    }

    /** What {@link Gpt#repair} does (or did) about this state, one line. */
    public String repairAction() {
        return switch (state) {
            case BOTH_VALID -> "both GPT copies are valid and agree; nothing to do";
            case PRIMARY_ONLY -> "backup GPT rewritten from the primary copy";
            case BACKUP_ONLY -> "primary GPT rewritten from the backup copy";
            case BOTH_VALID_DISAGREE -> "primary GPT rewritten from the backup copy (both were valid; the backup is newer)";
        };
    }
}
