/**
 * {@code jvmm bench boot}: boot latency of jvmm, QEMU microvm and a minimal C VMM (the floor),
 * run after run, as phases in milliseconds from each VMM process's start; their statistics,
 * ratios, memory, and the reports (text, JSON, CSV, SVG). May depend on {@code dev.jvmm.machine}
 * (timelines, exit statuses), {@code dev.jvmm.lab} (running inside L1), {@code dev.jvmm.images}
 * (the cache, initramfs archives: the bench init, the peers packed for L1), Jackson (JSON, CSV),
 * JFreeChart with JFreeSVG, me.tongfei:progressbar and the JDK; the VMMs it measures are separate
 * processes it starts and watches.
 */
package dev.jvmm.bootbench;
