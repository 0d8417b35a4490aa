package dev.jvmm.agent;

import dev.jvmm.agent.AgentException.Kind;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * Asks the guest agent (jvmm-agent, vsock port 1024) of a running VM through the VM's hybrid vsock
 * Unix socket: CONNECT 1024, OK, then one request line. Line requests get one reply line; exec gets
 * frames (type 'o' stdout / 'e' stderr / 'x' exit status, 4-byte big-endian length, payload). Every
 * read is capped and timed, so a broken or hostile guest costs the host neither memory nor a hang
 * (exec waits as long as its command runs, unless {@link Timeouts#execIdle} is set).
 */
public final class AgentClient {
    public static final int PORT = 1024;
    /** The longest reply line accepted, without its newline. */
    public static final int MAX_LINE = 4096;
    /** The agent's request cap, newline included. */
    public static final int MAX_REQUEST = 4096;
    /** The largest output frame accepted (the agent sends at most 4 KiB). */
    public static final int MAX_FRAME = 1 << 20;
    private static final int MAX_HANDSHAKE = 64;
    /** How an "error: ..." line starts: never a frame header, whose 'e' length would be far over MAX_FRAME. */
    private static final byte[] ERROR = "error".getBytes(StandardCharsets.US_ASCII);

    /** The one-line requests. */
    public enum Request {
        PING, VERSION, SLOT, STATUS, REBOOT, POWEROFF;

        public String line() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * How long to wait: for the socket and the CONNECT handshake, for a reply line, and for
     * each exec frame (zero: as long as the command runs).
     */
    public record Timeouts(Duration connect, Duration reply, Duration execIdle) {
        public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ZERO);

        public Timeouts {
            if (connect.isNegative() || connect.isZero() || reply.isNegative() || reply.isZero() || execIdle.isNegative()) {
                throw new IllegalArgumentException("timeouts must be positive (execIdle: zero for none)");
            }
        }
    }

    private final Path uds;
    private final Timeouts timeouts;

    public AgentClient(Path uds) {
        this(uds, Timeouts.DEFAULT);
    }

    public AgentClient(Path uds, Timeouts timeouts) {
        this.uds = Objects.requireNonNull(uds);
        this.timeouts = Objects.requireNonNull(timeouts);
    }

    /** Sends {@code request} and returns the agent's reply line; "error: ..." replies throw (GUEST_ERROR). */
    public String request(Request request) throws AgentException {
        try (Wire w = open()) {
            String what = "'" + request.line() + "'";
            long deadline = deadline(timeouts.reply());
            String reply;
            try {
                w.write((request.line() + "\n").getBytes(StandardCharsets.US_ASCII), deadline);
                reply = w.readLine(MAX_LINE, deadline);
            } catch (IOException e) {
                throw translate(e, "the reply to " + what, timeouts.reply());
            }
            if (reply == null) {
                throw new AgentException(Kind.CLOSED, "the agent closed the connection without answering " + what);
            }
            reply = printable(reply);
            if (reply.startsWith("error: ")) {
                throw new AgentException(Kind.GUEST_ERROR, "the agent answered " + what + " with " + reply);
            }
            return reply;
        } catch (IOException e) {
            throw translate(e, "closing", timeouts.reply());
        }
    }

    /**
     * Runs {@code command} with /bin/sh -c in the guest, copies its stdout and stderr to
     * {@code out} and {@code err} as they come, and returns its exit status (128+N if signal N killed it).
     * IOExceptions other than AgentException come from {@code out} or {@code err}.
     */
    public int exec(String command, OutputStream out, OutputStream err) throws IOException {
        if (command.isBlank()) {
            throw new IllegalArgumentException("exec needs a command");
        }
        if (command.chars().anyMatch(c -> c == '\n' || c == '\r' || c == 0)) {
            throw new IllegalArgumentException("the command must be one line (no newline, carriage return or NUL)");
        }
        byte[] request = ("exec " + command + "\n").getBytes(StandardCharsets.UTF_8);
        if (request.length > MAX_REQUEST) {
            throw new IllegalArgumentException("the command takes " + (request.length - 6) + " bytes; the agent accepts at most "
                    + (MAX_REQUEST - 6));
        }
        Duration idle = timeouts.execIdle().isZero() ? null : timeouts.execIdle();
        try (Wire w = open()) {
            byte[] head = new byte[5];
            byte[] chunk = new byte[64 * 1024];
            try {
                w.write(request, deadline(timeouts.reply()));
            } catch (IOException e) {
                throw translate(e, "sending the command", timeouts.reply());
            }
            while (true) {
                long deadline = idle == null ? Wire.NO_DEADLINE : deadline(idle);
                long length;
                try {
                    if (!w.readFully(head, deadline)) {
                        throw new AgentException(Kind.CLOSED, "the agent closed the connection before the command's exit status");
                    }
                    if (Arrays.equals(head, ERROR)) { // a line instead of frames, e.g. "error: busy"
                        String rest = w.readLine(MAX_LINE, deadline);
                        throw new AgentException(Kind.GUEST_ERROR, "the agent answered exec with " + printable("error" + rest));
                    }
                    length = Integer.toUnsignedLong(ByteBuffer.wrap(head, 1, 4).getInt());
                    if (head[0] == 'x') {
                        return exitStatus(w, length, deadline);
                    }
                    if (head[0] != 'o' && head[0] != 'e') {
                        throw new AgentException(Kind.PROTOCOL, String.format("unknown frame type 0x%02x from the agent", head[0] & 0xff));
                    }
                    if (length > MAX_FRAME) {
                        throw new AgentException(Kind.PROTOCOL, "a frame of " + length + " bytes from the agent; at most " + MAX_FRAME
                                + " are accepted");
                    }
                } catch (IOException e) {
                    throw translate(e, "the command's output", idle);
                }
                OutputStream to = head[0] == 'o' ? out : err;
                while (length > 0) {
                    int n;
                    try {
                        n = w.readSome(chunk, 0, (int) Math.min(length, chunk.length), deadline);
                    } catch (IOException e) {
                        throw translate(e, "the command's output", idle);
                    }
                    if (n < 0) {
                        throw new AgentException(Kind.CLOSED, "the connection ended in the middle of an output frame");
                    }
                    to.write(chunk, 0, n); // out's own failures pass as they are
                    length -= n;
                }
                to.flush();
            }
        }
    }

    private static int exitStatus(Wire w, long length, long deadline) throws IOException {
        if (length != 4) {
            throw new AgentException(Kind.PROTOCOL, "an exit frame of " + length + " bytes from the agent (4 expected)");
        }
        byte[] s = new byte[4];
        if (!w.readFully(s, deadline)) {
            throw new EOFException("no exit status");
        }
        int status = ByteBuffer.wrap(s).getInt();
        if (status < 0 || status > 255) {
            throw new AgentException(Kind.PROTOCOL, "exit status " + status + " from the agent (0..255 expected)");
        }
        return status;
    }

    /** Connects through the VM's socket and completes CONNECT 1024 / OK. */
    private Wire open() throws AgentException {
        if (!Files.exists(uds, LinkOption.NOFOLLOW_LINKS)) {
            throw new AgentException(Kind.NO_SOCKET, "no socket at " + uds + " (is a VM running with --vsock uds=" + uds + "?)");
        }
        long deadline = deadline(timeouts.connect());
        Wire w;
        try {
            w = Wire.connect(uds, deadline);
        } catch (SocketTimeoutException e) {
            throw new AgentException(Kind.TIMED_OUT, "connecting to " + uds + " took over " + seconds(timeouts.connect()), e);
        } catch (IOException e) {
            throw new AgentException(Kind.NOT_LISTENING, "nothing accepts on " + uds + " (has the VM stopped?): " + e.getMessage(), e);
        }
        try {
            w.write(("CONNECT " + PORT + "\n").getBytes(StandardCharsets.US_ASCII), deadline);
            String ok = w.readLine(MAX_HANDSHAKE, deadline);
            if (ok == null) {
                throw new AgentException(Kind.REFUSED, "the guest refused port " + PORT + " (jvmm-agent not running, or the guest still booting)");
            }
            if (!ok.startsWith("OK ")) {
                throw new AgentException(Kind.PROTOCOL, "the VM answered CONNECT with '" + printable(ok) + "', not OK");
            }
            return w;
        } catch (IOException e) {
            closeQuietly(w);
            throw translate(e, "the CONNECT handshake", timeouts.connect());
        }
    }

    private static AgentException translate(IOException e, String during, Duration limit) {
        if (e instanceof AgentException a) {
            return a;
        }
        if (e instanceof SocketTimeoutException) {
            return new AgentException(Kind.TIMED_OUT, "no " + during + " within " + seconds(limit), e);
        }
        if (e instanceof ProtocolException) {
            return new AgentException(Kind.PROTOCOL, e.getMessage() + " in " + during, e);
        }
        return new AgentException(Kind.CLOSED, "the connection failed during " + during + ": " + e.getMessage(), e);
    }

    private static long deadline(Duration d) {
        return System.nanoTime() + d.toNanos();
    }

    private static String seconds(Duration d) {
        return d == null ? "the time allowed" : d.toMillis() / 1000.0 + " s";
    }

    /** A guest's text without control characters, fit for a terminal. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return b.toString();
    }

    private static void closeQuietly(Wire w) {
        try {
            w.close();
        } catch (IOException ignored) {
            // already failing for a better reason
        }
    }
}
