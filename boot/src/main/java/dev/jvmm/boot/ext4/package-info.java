/**
 * A read-only ext2/ext3/ext4 reader, so that jvmm acting as firmware can take {@code /vmlinuz}
 * and {@code /grub/grub.cfg} from a Bottlerocket BOOT partition without mounting it.
 *
 * <p>The disk image is treated as hostile: every number read from it is checked against the
 * partition window and against fixed limits before use, and every walk is bounded, so a damaged
 * image ends in an {@link dev.jvmm.boot.ext4.Ext4Exception}, never in a runtime exception, a hang
 * or a read outside the window.
 *
 * <p>Depends on the JDK only.
 */
package dev.jvmm.boot.ext4;
