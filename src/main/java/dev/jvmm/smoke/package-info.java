/**
 * {@code jvmm smoke}: boots a set of container-OS images the way CI smoke-tests a build, each in a
 * {@code jvmm boot} process of its own (own scratch copy, own vsock socket, own metrics; in the
 * lab, its own L1), and reports each as PASS or FAIL with the reason, in words, JUnit XML and
 * JSON. May depend on {@code dev.jvmm.machine} (exit statuses) and the JDK; knows nothing of KVM.
 */
package dev.jvmm.smoke;
