/**
 * Steps of jvmm's own build that no Maven plugin offers, run by the build (exec-maven-plugin)
 * and never shipped in jvmm's jar: the application module depends on this one with
 * {@code provided} scope, which the shaded jar leaves out. Depends on ASM and the JDK only.
 */
package dev.jvmm.build;
