/**
 * PCI configuration space access (mechanism #1, ports 0xCF8-0xCFF) with one host bridge and
 * nothing behind it: what a kernel built with PCI expects to find on a PC. Depends on
 * {@code dev.jvmm.vmm.bus} only.
 */
package dev.jvmm.devices.pci;
