/**
 * A writer of flattened device trees (DTB format version 17, compatible back to 16), the
 * firmware description an arm64 Linux kernel reads instead of ACPI tables: nodes, properties,
 * phandles, the memory reservation map and the header, laid out as the Devicetree
 * Specification's chapter 5 says and as dtc lays them out (a tree compiled by dtc from the same
 * source is byte-for-byte the same blob).
 *
 * <p>Values come partly from users (the kernel command line) and are checked as they are added:
 * illegal names, duplicate nodes or properties, strings with NUL or control characters and trees
 * past their size limit are each refused with one {@link dev.jvmm.boot.fdt.FdtException}.
 *
 * <p>Depends on the JDK only.
 */
package dev.jvmm.boot.fdt;
