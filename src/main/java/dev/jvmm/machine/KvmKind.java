package dev.jvmm.machine;

import dev.jvmm.vmm.kvm.KvmException;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.selftest.TinyGuests;

import java.nio.file.Files;
import java.nio.file.Path;

/** What kind of KVM this host offers, found by trying it rather than by guessing. */
public enum KvmKind {
    /** Hardware virtualization: CPUID is intercepted, full Linux guests run. */
    HARDWARE,
    /** PVM (kvm_pvm) or another KVM that does not intercept CPUID: only tiny guests run. */
    PVM,
    /** No /dev/kvm, or no access to it. */
    NONE;

    /** The probe's verdict and why. */
    public record Probe(KvmKind kind, String reason) {
        public boolean canRunLinux() {
            return kind == HARDWARE;
        }
    }

    public static Probe probe() {
        if (!Files.exists(Path.of(KvmSystem.DEFAULT_PATH))) {
            return new Probe(NONE, "/dev/kvm does not exist");
        }
        try (KvmSystem kvm = KvmSystem.open()) {
            if (Files.isDirectory(Path.of("/sys/module/kvm_pvm"))) {
                return new Probe(PVM, "/dev/kvm is provided by kvm_pvm (PVM): guest kernel mode is emulated");
            }
            boolean cpuid = TinyGuests.cpuidIsVirtualized(kvm);
            return cpuid ? new Probe(HARDWARE, "a probe guest saw the CPUID leaf jvmm set: hardware KVM")
                    : new Probe(PVM, "a probe guest did not see the CPUID jvmm set: CPUID is not intercepted");
        } catch (KvmException e) {
            return new Probe(NONE, e.getMessage());
        } catch (RuntimeException e) {
            return new Probe(NONE, "/dev/kvm failed a probe: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Probe(NONE, "interrupted");
        }
    }
}
