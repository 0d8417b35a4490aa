package dev.jvmm.images.disk;

import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.Guid;

import java.util.Optional;

/**
 * The two disk layouts jvmm builds. Sources: Bottlerocket's partition planner (twoliter
 * embedded/partyplanner) and rpm2img; ChromeOS/COS partition numbering and cgpt type GUIDs.
 */
public enum Layout {
    BOTTLEROCKET("bottlerocket", "DATA", "/local"),
    COS("cos", "STATE", "/var");

    public static final Guid BIOS_BOOT = Guid.parse("21686148-6449-6E6F-744E-656564454649");
    public static final Guid EFI_SYSTEM = Guid.parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    public static final Guid BR_BOOT = Guid.parse("6b636168-7420-6568-2070-6c616e657421");
    public static final Guid BR_ROOT = Guid.parse("5526016a-1a97-4ea4-b39a-b7c8c6ca4502");
    public static final Guid BR_HASH = Guid.parse("598f10af-c955-4456-6a99-7720068a6cea");
    public static final Guid BR_RESERVED = Guid.parse("0c5d99a5-d331-4147-baef-08e2b855bdc9");
    public static final Guid BR_PRIVATE = Guid.parse("440408bb-eb0b-4328-a6e5-a29038fad706");
    public static final Guid BR_DATA = Guid.parse("626f7474-6c65-6474-6861-726d61726b73");
    public static final Guid CROS_KERNEL = Guid.parse("FE3A2A5D-4F32-41A7-B725-ACCC3285A309");
    public static final Guid CROS_ROOTFS = Guid.parse("3CB8E202-3B7E-47DD-8A3C-7FF2A13CFCEC");
    public static final Guid LINUX_DATA = Guid.parse("0FC63DAF-8483-4772-8E79-3D69D8477DE4");

    private final String cliName;
    private final String dataLabel;
    private final String dataMount;

    Layout(String cliName, String dataLabel, String dataMount) {
        this.cliName = cliName;
        this.dataLabel = dataLabel;
        this.dataMount = dataMount;
    }

    public String cliName() {
        return cliName;
    }

    /** ext4 label of the writable partition the init mounts. */
    public String dataLabel() {
        return dataLabel;
    }

    public String dataMount() {
        return dataMount;
    }

    /** The layout a GPT's partition types say (a Bottlerocket BOOT or a ChromeOS kernel partition), if any. */
    public static Optional<Layout> of(Gpt gpt) {
        if (gpt.partitions().stream().anyMatch(p -> p.type().equals(BR_BOOT))) {
            return Optional.of(BOTTLEROCKET);
        }
        if (gpt.partitions().stream().anyMatch(p -> p.type().equals(CROS_KERNEL))) {
            return Optional.of(COS);
        }
        return Optional.empty();
    }

    /** Why {@link #of} found none, in the words every command uses. */
    public static final String NOT_A_LAYOUT = "no BOOT or KERN partition: not a Bottlerocket- or COS-layout image";

    public static Layout parse(String s) {
        for (Layout l : values()) {
            if (l.cliName.equalsIgnoreCase(s)) {
                return l;
            }
        }
        throw new IllegalArgumentException("unknown layout '" + s + "' (bottlerocket or cos)");
    }
}
