/**
 * The seam between the machine builder ({@code dev.jvmm.machine.Vm}) and a guest architecture:
 * {@link dev.jvmm.machine.arch.Architecture} and its per-VM {@link dev.jvmm.machine.arch.Board},
 * and the neutral values they exchange (the architecture's name, a placed device, the payload,
 * the platform the fixed devices attach to). Nothing here names an address or an interrupt
 * number; the implementations are dev.jvmm.machine.x86 and dev.jvmm.machine.arm64.
 *
 * <p>Depends on dev.jvmm.boot (KernelLoadException), dev.jvmm.devices (the UART and platform
 * page types) and dev.jvmm.vmm; on nothing else of dev.jvmm.machine.
 */
package dev.jvmm.machine.arch;
