/**
 * Booting Linux on an x86_64 guest: the kernel formats (ELF vmlinux, bzImage), the kernel proper
 * inside a bzImage unpacked on the host ({@link dev.jvmm.boot.x86.BzImagePayload},
 * {@link dev.jvmm.boot.x86.UnpackedKernel}), the boot protocol's zero page, e820 map, GDT and
 * identity page tables ({@link dev.jvmm.boot.x86.X86Loader}),
 * the guest's address map, I/O ports and interrupt numbers ({@link dev.jvmm.boot.x86.X86Layout}),
 * and the allocator of virtio-mmio windows and GSIs ({@link dev.jvmm.boot.x86.X86Allocator}).
 * With dev.jvmm.boot.acpi, which describes the machine to the guest, it is boot's x86 home:
 * arm64's counterpart is dev.jvmm.boot.arm64.
 *
 * <p>Depends on dev.jvmm.boot (KernelLoadException), dev.jvmm.vmm.memory and dev.jvmm.vmm.x86
 * (the long-mode entry state it returns), and on XZ for Java (org.tukaani.xz) for xz payloads.
 */
package dev.jvmm.boot.x86;
