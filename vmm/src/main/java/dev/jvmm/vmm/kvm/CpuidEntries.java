package dev.jvmm.vmm.kvm;

import dev.jvmm.vmm.sys.KvmIoctls;
import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** A mutable list of CPUID leaves, as KVM_GET_SUPPORTED_CPUID returns and KVM_SET_CPUID2 takes. */
public final class CpuidEntries {
    /** One kvm_cpuid_entry2. */
    public static final class Entry {
        public final int function;
        public final int index;
        public final int flags;
        public int eax;
        public int ebx;
        public int ecx;
        public int edx;

        public Entry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
            this.function = function;
            this.index = index;
            this.flags = flags;
            this.eax = eax;
            this.ebx = ebx;
            this.ecx = ecx;
            this.edx = edx;
        }

        Entry copy() {
            return new Entry(function, index, flags, eax, ebx, ecx, edx);
        }
    }

    private final List<Entry> entries;

    public CpuidEntries(List<Entry> entries) {
        this.entries = new ArrayList<>(entries);
    }

    static CpuidEntries fromKvm(ByteBuffer buf) {
        int n = buf.getInt(0);
        List<Entry> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int o = 8 + i * KvmIoctls.CPUID_ENTRY_SIZE;
            list.add(new Entry(buf.getInt(o), buf.getInt(o + 4), buf.getInt(o + 8), buf.getInt(o + 12),
                    buf.getInt(o + 16), buf.getInt(o + 20), buf.getInt(o + 24)));
        }
        return new CpuidEntries(list);
    }

    ByteBuffer toKvm() {
        ByteBuffer buf = Syscalls.struct(8 + entries.size() * KvmIoctls.CPUID_ENTRY_SIZE);
        buf.putInt(0, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            int o = 8 + i * KvmIoctls.CPUID_ENTRY_SIZE;
            buf.putInt(o, e.function).putInt(o + 4, e.index).putInt(o + 8, e.flags).putInt(o + 12, e.eax)
                    .putInt(o + 16, e.ebx).putInt(o + 20, e.ecx).putInt(o + 24, e.edx);
        }
        return buf;
    }

    public List<Entry> entries() {
        return entries;
    }

    /** A deep copy, so each vCPU gets its own APIC ID. */
    public CpuidEntries copy() {
        List<Entry> copies = new ArrayList<>(entries.size()); // a loop, not a stream: this runs at every VM start
        for (Entry e : entries) {
            copies.add(e.copy());
        }
        return new CpuidEntries(copies);
    }

    public int size() {
        return entries.size();
    }
}
