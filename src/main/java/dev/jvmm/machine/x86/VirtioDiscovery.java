package dev.jvmm.machine.x86;

import dev.jvmm.boot.acpi.AcpiTables;
import dev.jvmm.machine.arch.Discovery;
import dev.jvmm.machine.arch.Placed;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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

    /** The placed devices described as {@code how} says, for a guest booted with {@code kernelCmdline}. */
    static VirtioDiscovery of(Discovery how, String kernelCmdline, List<Placed> virtio) {
        // Loops and plain concatenation, no streams or String.format: this runs at every VM start,
        // where each of those costs its first-use machinery (most of a second under the lab's TCG).
        List<AcpiTables.MmioDevice> devices = new ArrayList<>(virtio.size());
        for (Placed p : virtio) {
            devices.add(new AcpiTables.MmioDevice(p.base(), p.size(), p.irq()));
        }
        return of(how, kernelCmdline, devices, words(virtio));
    }

    /** The {@code virtio_mmio.device=4K@0xc0001000:5} words for the kernel command line, one per device. */
    static String words(List<Placed> virtio) {
        StringBuilder b = new StringBuilder();
        for (Placed p : virtio) {
            b.append(b.length() == 0 ? "" : " ").append("virtio_mmio.device=").append(p.size() >> 10).append("K@0x")
                    .append(Long.toHexString(p.base())).append(':').append(p.irq());
        }
        return b.toString();
    }

    /** {@code devices} described as {@code how} says, for a guest booted with {@code kernelCmdline}. */
    public static VirtioDiscovery of(Discovery how, String kernelCmdline, List<AcpiTables.MmioDevice> devices,
                                     String words) {
        Discovery effective = how != Discovery.auto ? how
                : acpiOff(kernelCmdline) ? Discovery.cmdline : Discovery.acpi;
        return new VirtioDiscovery(effective == Discovery.cmdline ? List.of() : devices,
                effective == Discovery.acpi ? "" : words);
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
