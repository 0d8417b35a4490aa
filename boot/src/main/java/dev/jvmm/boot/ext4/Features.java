package dev.jvmm.boot.ext4;

import java.util.ArrayList;
import java.util.List;

/**
 * The superblock feature bits this reader looks at (ext4 on-disk format, "Super Block"), and
 * which incompatible ones it refuses: an incompat feature changes how data is laid out, so an
 * unknown one must stop the reader rather than make it read wrong bytes.
 */
final class Features {
    static final int COMPAT_SPARSE_SUPER2 = 0x200;

    static final int INCOMPAT_COMPRESSION = 0x1;
    static final int INCOMPAT_FILETYPE = 0x2;
    static final int INCOMPAT_RECOVER = 0x4;
    static final int INCOMPAT_JOURNAL_DEV = 0x8;
    static final int INCOMPAT_META_BG = 0x10;
    static final int INCOMPAT_EXTENTS = 0x40;
    static final int INCOMPAT_64BIT = 0x80;
    static final int INCOMPAT_MMP = 0x100;
    static final int INCOMPAT_FLEX_BG = 0x200;
    static final int INCOMPAT_EA_INODE = 0x400;
    static final int INCOMPAT_DIRDATA = 0x1000;
    static final int INCOMPAT_CSUM_SEED = 0x2000;
    static final int INCOMPAT_LARGEDIR = 0x4000;
    static final int INCOMPAT_INLINE_DATA = 0x8000;
    static final int INCOMPAT_ENCRYPT = 0x10000;
    static final int INCOMPAT_CASEFOLD = 0x20000;

    static final int RO_COMPAT_SPARSE_SUPER = 0x1;
    static final int RO_COMPAT_GDT_CSUM = 0x10;
    static final int RO_COMPAT_BIGALLOC = 0x200;
    static final int RO_COMPAT_METADATA_CSUM = 0x400;

    /** Layout features the reader handles; journal recovery, MMP and casefolding do not change what it reads. */
    static final int INCOMPAT_SUPPORTED = INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_META_BG | INCOMPAT_EXTENTS
            | INCOMPAT_64BIT | INCOMPAT_MMP | INCOMPAT_FLEX_BG | INCOMPAT_EA_INODE | INCOMPAT_CSUM_SEED
            | INCOMPAT_LARGEDIR | INCOMPAT_INLINE_DATA | INCOMPAT_CASEFOLD;

    private Features() {}

    /** Names of the incompat bits in {@code bits}, unknown ones in hex. */
    static List<String> incompatNames(int bits) {
        List<String> names = new ArrayList<>();
        for (int bit = 0; bit < 32; bit++) {
            int f = 1 << bit;
            if ((bits & f) != 0) {
                names.add(incompatName(f));
            }
        }
        return names;
    }

    private static String incompatName(int f) {
        return switch (f) {
            case INCOMPAT_COMPRESSION -> "compression";
            case INCOMPAT_FILETYPE -> "filetype";
            case INCOMPAT_RECOVER -> "needs_recovery";
            case INCOMPAT_JOURNAL_DEV -> "journal_dev";
            case INCOMPAT_META_BG -> "meta_bg";
            case INCOMPAT_EXTENTS -> "extent";
            case INCOMPAT_64BIT -> "64bit";
            case INCOMPAT_MMP -> "mmp";
            case INCOMPAT_FLEX_BG -> "flex_bg";
            case INCOMPAT_EA_INODE -> "ea_inode";
            case INCOMPAT_DIRDATA -> "dirdata";
            case INCOMPAT_CSUM_SEED -> "metadata_csum_seed";
            case INCOMPAT_LARGEDIR -> "large_dir";
            case INCOMPAT_INLINE_DATA -> "inline_data";
            case INCOMPAT_ENCRYPT -> "encrypt";
            case INCOMPAT_CASEFOLD -> "casefold";
            default -> String.format("unknown(0x%x)", f);
        };
    }
}
