package dev.jvmm.machine;

import dev.jvmm.devices.virtio.blk.FencedRange;
import dev.jvmm.machine.arch.Discovery;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The device flags' values: {@code --drive path=FILE[,ro][,rw][,id=NAME][,serial=S]},
 * {@code --net tap=NAME[,mac=MAC]}, {@code --vsock cid=N,uds=PATH}. Each parses from and prints
 * back to the same form, which is how the lab hands devices to the jvmm inside L1.
 */
public final class DeviceSpecs {
    private DeviceSpecs() {}

    /**
     * A virtio-blk drive. {@code readOnly} null means "the default for this file". {@code fences}
     * are sectors the guest may not write (an image boot's booted slot); none from the command line.
     */
    public record Drive(Path path, Boolean readOnly, String id, String serial, List<FencedRange> fences) {
        public Drive {
            fences = fences == null ? List.of() : List.copyOf(fences);
        }

        public Drive(Path path, Boolean readOnly, String id, String serial) {
            this(path, readOnly, id, serial, List.of());
        }

        public static Drive parse(String spec) {
            Map<String, String> kv = keyValues("--drive", spec, Set.of("path", "id", "serial"), Set.of("ro", "rw"));
            if (!kv.containsKey("path")) {
                throw new IllegalArgumentException("--drive needs path=FILE: " + spec);
            }
            if (kv.containsKey("ro") && kv.containsKey("rw")) {
                throw new IllegalArgumentException("--drive cannot be both ro and rw: " + spec);
            }
            String serial = kv.get("serial");
            if (serial != null && serial.length() > 20) {
                throw new IllegalArgumentException("--drive serial is at most 20 characters (virtio-blk's ID): " + serial);
            }
            Boolean ro = kv.containsKey("ro") ? Boolean.TRUE : kv.containsKey("rw") ? Boolean.FALSE : null;
            return new Drive(Path.of(kv.get("path")), ro, kv.get("id"), serial);
        }

        /** A compressed image is read-only unless rw was asked for; a plain file is writable unless ro. */
        public boolean readOnlyFor(boolean compressed) {
            return readOnly != null ? readOnly : compressed;
        }

        public Drive withPath(Path p, boolean ro) {
            return new Drive(p, ro, id, serial, fences);
        }

        public String spec() {
            StringBuilder b = new StringBuilder("path=").append(path);
            if (readOnly != null) {
                b.append(readOnly ? ",ro" : ",rw");
            }
            if (id != null) {
                b.append(",id=").append(id);
            }
            if (serial != null) {
                b.append(",serial=").append(serial);
            }
            return b.toString();
        }
    }

    /** A virtio-net device on a host TAP. */
    public record Net(String tap, byte[] mac) {
        public static Net parse(String spec) {
            Map<String, String> kv = keyValues("--net", spec, Set.of("tap", "mac"), Set.of());
            String tap = kv.get("tap");
            if (tap == null || tap.isEmpty() || tap.length() > 15 || !tap.matches("[A-Za-z0-9_.-]+")) {
                throw new IllegalArgumentException("--net needs tap=NAME (at most 15 letters, digits, '_', '.', '-'): " + spec);
            }
            return new Net(tap, kv.containsKey("mac") ? parseMac(kv.get("mac")) : null);
        }

        public String spec() {
            return "tap=" + tap + (mac == null ? "" : ",mac=" + formatMac(mac));
        }
    }

    /** virtio-vsock with Firecracker's hybrid Unix-socket model. */
    public record Vsock(long cid, Path uds) {
        public static Vsock parse(String spec) {
            Map<String, String> kv = keyValues("--vsock", spec, Set.of("cid", "uds"), Set.of());
            if (!kv.containsKey("cid") || !kv.containsKey("uds")) {
                throw new IllegalArgumentException("--vsock needs cid=N,uds=PATH: " + spec);
            }
            long cid;
            try {
                cid = Long.parseLong(kv.get("cid"));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--vsock cid must be a number: " + kv.get("cid"));
            }
            if (cid < 3 || cid > 0xffffffffL - 1) {
                throw new IllegalArgumentException("--vsock cid must be at least 3 (0-2 are reserved): " + cid);
            }
            return new Vsock(cid, Path.of(kv.get("uds")));
        }

        public String spec() {
            return "cid=" + cid + ",uds=" + uds;
        }
    }

    /** Splits {@code a=b,flag,c=d}; unknown keys and repeated keys are errors that name the flag. */
    static Map<String, String> keyValues(String flag, String spec, Set<String> keys, Set<String> flags) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : spec.split(",", -1)) {
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            if (eq < 0 ? !flags.contains(k) : !keys.contains(k)) {
                throw new IllegalArgumentException(flag + ": unknown or misplaced '" + part + "' in '" + spec + "' (keys: "
                        + String.join(", ", keys.stream().sorted().map(x -> x + "=").toList())
                        + (flags.isEmpty() ? "" : "; flags: " + String.join(", ", flags.stream().sorted().toList())) + ")");
            }
            if (out.put(k, eq < 0 ? "" : part.substring(eq + 1)) != null) {
                throw new IllegalArgumentException(flag + ": '" + k + "' given twice in '" + spec + "'");
            }
        }
        return out;
    }

    public static byte[] parseMac(String s) {
        String[] parts = s.split(":");
        if (parts.length != 6) {
            throw new IllegalArgumentException("a MAC address is six hex bytes with colons, not " + s);
        }
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (!parts[i].matches("[0-9A-Fa-f]{2}")) {
                throw new IllegalArgumentException("a MAC address is six hex bytes with colons, not " + s);
            }
            mac[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        if ((mac[0] & 1) != 0) {
            throw new IllegalArgumentException("MAC " + s + " is a multicast address");
        }
        return mac;
    }

    public static String formatMac(byte[] mac) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < mac.length; i++) {
            b.append(i == 0 ? "" : ":").append(String.format("%02x", mac[i] & 0xff));
        }
        return b.toString();
    }

    /** Locally administered MACs, one per net device: 06:00:4a:56:4d:0N ("JVM"). */
    public static byte[] defaultMac(int index) {
        return new byte[] {0x06, 0x00, 0x4a, 0x56, 0x4d, (byte) index};
    }

    /** Every device a machine has beyond the fixed platform ones. */
    public record Devices(List<Drive> drives, List<Net> nets, Vsock vsock, boolean rng, Discovery discovery) {
        public static final Devices DEFAULT = new Devices(List.of(), List.of(), null, true, Discovery.auto);

        public Devices {
            drives = List.copyOf(drives);
            nets = List.copyOf(nets);
            discovery = discovery == null ? Discovery.auto : discovery;
        }

        public Devices(List<Drive> drives, List<Net> nets, Vsock vsock, boolean rng) {
            this(drives, nets, vsock, rng, Discovery.auto);
        }

        public int count() {
            return drives.size() + nets.size() + (vsock == null ? 0 : 1) + (rng ? 1 : 0);
        }
    }
}
