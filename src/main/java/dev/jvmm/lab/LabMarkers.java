package dev.jvmm.lab;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Passes the lab's console through to the user while taking out the lines the lab's init
 * prints for jvmm: {@code JVMM-LAB-EXIT=N} (the inner jvmm's exit status) and
 * {@code JVMM-LAB-ERROR=text}, {@code JVMM-LAB-METRICS=json} (--metrics) and
 * {@code JVMM-LAB-DATA=text} (results an inner command hands out as it goes: jvmm bench boot's
 * runs). Only bytes that may start a marker are held back.
 */
public final class LabMarkers extends OutputStream {
    static final byte[] PREFIX = "JVMM-LAB-".getBytes(StandardCharsets.US_ASCII);

    private final OutputStream out;
    private final byte[] held = new byte[PREFIX.length];
    private int heldLen;
    private StringBuilder marker;
    private volatile Integer exitStatus;
    private volatile String error;
    private volatile String metrics;
    private final Consumer<String> data;

    public LabMarkers(OutputStream out) {
        this(out, null);
    }

    /** {@code data} (may be null: such lines are dropped) takes what follows each {@code JVMM-LAB-DATA=}, as it arrives. */
    public LabMarkers(OutputStream out, Consumer<String> data) {
        this.out = out;
        this.data = data;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        if (marker != null) {
            if (b == '\n' || b == '\r') {
                finishMarker(marker.toString());
                marker = null;
            } else if (marker.length() < (1 << 20)) {
                marker.append((char) (b & 0xff));
            }
            return;
        }
        if (b == PREFIX[heldLen]) {
            held[heldLen++] = (byte) b;
            if (heldLen == PREFIX.length) {
                heldLen = 0;
                marker = new StringBuilder();
            }
            return;
        }
        if (heldLen > 0) {
            out.write(held, 0, heldLen);
            heldLen = 0;
            if (b == PREFIX[0]) { // the marker's first letter appears nowhere else in it
                held[heldLen++] = (byte) b;
                return;
            }
        }
        out.write(b);
    }

    private void finishMarker(String m) {
        if (m.startsWith("EXIT=")) {
            try {
                exitStatus = Integer.parseInt(m.substring(5).trim());
            } catch (NumberFormatException e) {
                error = "the lab reported an unreadable exit status: " + m;
            }
        } else if (m.startsWith("METRICS=")) {
            metrics = m.substring(8).trim();
        } else if (m.startsWith("DATA=")) {
            if (data != null) {
                data.accept(m.substring(5).trim());
            }
        } else if (m.startsWith("ERROR=")) {
            error = m.substring(6).trim();
        }
    }

    @Override
    public synchronized void flush() throws IOException {
        out.flush();
    }

    /** The inner jvmm's exit status, once the lab reported it. */
    public Integer exitStatus() {
        return exitStatus;
    }

    /** The inner jvmm's --metrics JSON, if the lab printed it. */
    public String metrics() {
        return metrics;
    }

    public String error() {
        return error;
    }
}
