/**
 * GRUB's part of booting, for jvmm acting as firmware: interpreting a grub.cfg the way GRUB 2
 * does (its shell-like lexer, variable expansion and word splitting, set/export/probe,
 * menuentry/submenu and the choice of the default entry) to find the kernel, initrds and the
 * kernel command line that GRUB's linux loader would build.
 *
 * <p>The config comes from a disk image and is treated as hostile: its size, nesting and every
 * expansion are bounded, control flow (if, for, while, functions) is refused rather than
 * guessed at, and every failure is a {@link dev.jvmm.boot.grub.GrubException} with one line
 * saying what and where.
 *
 * <p>Depends on the JDK only.
 */
package dev.jvmm.boot.grub;
