package dev.jvmm.boot.fdt;

/**
 * A device tree that cannot be written as asked (a bad name, a duplicate, a bad value, a tree
 * past its size limit), with the reason and the node's path in one line. Unchecked: most trees
 * are built from fixed code, and the values users give (bootargs) are checked by their callers'
 * own validation first.
 */
public final class FdtException extends IllegalArgumentException {
    public FdtException(String message) {
        super(message);
    }
}
