package dev.jvmm.machine;

import dev.jvmm.boot.acpi.AcpiTables;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the guest is told of its virtio-mmio devices: LNRO0005 entries in the DSDT, {@code
 * virtio_mmio.device=} words on the kernel command line, or both. Exists so that the default
 * describes each device exactly once: a kernel with ACPI that finds a device both ways registers
 * it twice and logs "probe of virtio-mmio.N failed with error -16" for the second.
 *
 * <p>{@code auto} picks the DSDT, which every kernel jvmm boots can read (jvmm's own kernel, and
 * Debian's, whose virtio_mmio has no command-line devices at all), unless the command line turns
 * ACPI off, where only the words can reach the guest. A kernel built without ACPI needs
 * {@code --virtio-discovery cmdline} (or {@code both}).
 */
public record VirtioDiscovery(List<AcpiTables.MmioDevice> dsdtDevices, String cmdlineWords) {
    public VirtioDiscovery {
        dsdtDevices = List.copyOf(dsdtDevices);
    }

    static VirtioDiscovery of(DeviceSpecs.Discovery how, String kernelCmdline, VirtioSetup virtio) {
        return of(how, kernelCmdline, virtio.acpiDevices(), virtio.cmdline());
    }

    /** {@code devices} described as {@code how} says, for a guest booted with {@code kernelCmdline}. */
    public static VirtioDiscovery of(DeviceSpecs.Discovery how, String kernelCmdline, List<AcpiTables.MmioDevice> devices,
                                     String words) {
        DeviceSpecs.Discovery effective = how != DeviceSpecs.Discovery.auto ? how
                : acpiOff(kernelCmdline) ? DeviceSpecs.Discovery.cmdline : DeviceSpecs.Discovery.acpi;
        return new VirtioDiscovery(effective == DeviceSpecs.Discovery.cmdline ? List.of() : devices,
                effective == DeviceSpecs.Discovery.acpi ? "" : words);
    }

    /** The kernel command line with this discovery's words, if any, at its end. */
    public String appendTo(String kernelCmdline) {
        return cmdlineWords.isEmpty() ? kernelCmdline
                : kernelCmdline.isEmpty() ? cmdlineWords : kernelCmdline + " " + cmdlineWords;
    }

    /**
     * Whether Linux runs without ACPI on this command line: the last {@code acpi=off} or {@code
     * acpi=force} wins, as arch/x86/kernel/acpi/boot.c parses them; double quotes hold a value
     * with spaces inside one word, and words after {@code --} belong to init.
     */
    static boolean acpiOff(String cmdline) {
        boolean off = false;
        for (String word : kernelWords(cmdline)) {
            if (word.equals("acpi=off")) {
                off = true;
            } else if (word.equals("acpi=force")) {
                off = false;
            }
        }
        return off;
    }

    /** The command line split as the kernel's next_arg does: on spaces outside double quotes, quotes removed. */
    static List<String> kernelWords(String cmdline) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i <= cmdline.length(); i++) {
            char ch = i < cmdline.length() ? cmdline.charAt(i) : ' ';
            if (ch == '"') {
                quoted = !quoted;
            } else if (Character.isWhitespace(ch) && !quoted) {
                if (w.length() > 0) {
                    if (w.toString().equals("--")) {
                        break;
                    }
                    words.add(w.toString());
                    w.setLength(0);
                }
            } else {
                w.append(ch);
            }
        }
        return words;
    }
}
