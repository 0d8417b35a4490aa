package dev.jvmm.machine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Collects bytes into lines and hands each whole line to the console, so output from the
 * host's side of a guest never lands in the middle of one of the guest's console lines. A line
 * longer than the cap goes out in pieces of the cap; what is left at close goes out as it is.
 */
final class LineStream extends OutputStream {
    static final int MAX_LINE = 64 << 10;

    private final ConsoleOutput console;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineStream(ConsoleOutput console) {
        this.console = console;
    }

    @Override
    public void write(int b) throws IOException {
        line.write(b);
        if (b == '\n' || line.size() >= MAX_LINE) {
            flush();
        }
    }

    @Override
    public void write(byte[] b, int off, int n) throws IOException {
        for (int i = off; i < off + n; i++) {
            write(b[i]);
        }
    }

    @Override
    public void flush() throws IOException {
        if (line.size() > 0) {
            byte[] bytes = line.toByteArray();
            line.reset();
            console.writeLines(bytes, 0, bytes.length);
        }
    }

    @Override
    public void close() throws IOException {
        flush();
    }
}
