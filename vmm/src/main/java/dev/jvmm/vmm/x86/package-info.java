/**
 * x86 vCPU set-up for Linux's 64-bit boot protocol: long-mode entry state, MSRs and the CPUID a
 * guest gets (KVM's supported set, per-vCPU topology, XSAVE components made predictable). Depends
 * on {@code dev.jvmm.vmm.kvm} only.
 */
package dev.jvmm.vmm.x86;
