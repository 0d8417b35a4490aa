package dev.jvmm.boot.grub;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * GRUB's environment: variables, the exported ones among them (only those reach a submenu,
 * grub_env_context_open), and a bound on their total size, since a hostile config could
 * otherwise double a value line after line.
 */
final class Env {
    static final int MAX_BYTES = 1 << 20;

    private final Map<String, String> vars = new HashMap<>();
    private final Set<String> exported = new HashSet<>();
    private long size;

    /** Initial variables are exported, as GRUB exports root and prefix. */
    static Env of(Map<String, String> initial) throws GrubException {
        Env e = new Env();
        for (Map.Entry<String, String> v : initial.entrySet()) {
            e.set(v.getKey(), v.getValue());
            e.exported.add(v.getKey());
        }
        return e;
    }

    String get(String name) {
        return vars.get(name);
    }

    void set(String name, String value) throws GrubException {
        String old = vars.put(name, value);
        size += name.length() + value.length() - (old == null ? 0 : name.length() + old.length());
        if (size > MAX_BYTES) {
            throw new GrubException("grub.cfg: variables grow past " + MAX_BYTES + " bytes");
        }
    }

    void unset(String name) {
        String old = vars.remove(name);
        if (old != null) {
            size -= name.length() + old.length();
        }
        exported.remove(name);
    }

    /** export NAME: an unset variable is created empty, as grub_env_export does. */
    void export(String name) throws GrubException {
        if (!vars.containsKey(name)) {
            set(name, "");
        }
        exported.add(name);
    }

    /** The environment a submenu runs in: the exported variables only. */
    Env exportedCopy() throws GrubException {
        Env e = new Env();
        for (String name : exported) {
            e.set(name, vars.get(name));
            e.exported.add(name);
        }
        return e;
    }
}
