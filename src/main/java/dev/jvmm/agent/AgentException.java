package dev.jvmm.agent;

import java.io.IOException;

/**
 * Why talking to the guest agent failed, as a kind a caller can act on (retry, report "the VM is
 * not running", give up) and a one-line message for people.
 */
public final class AgentException extends IOException {
    /** What went wrong, from "nothing there" to "the guest said no". */
    public enum Kind {
        /** No socket file at the path: the VM does not run with that --vsock uds. */
        NO_SOCKET,
        /** The socket file is there but nothing accepts: the VM is gone. */
        NOT_LISTENING,
        /** The VM closed the connection instead of OK: nothing listens on the guest port (yet). */
        REFUSED,
        /** No answer within the time allowed. */
        TIMED_OUT,
        /** The connection ended before a complete answer. */
        CLOSED,
        /** The answer broke the protocol: over a cap, an unknown frame, an unexpected handshake. */
        PROTOCOL,
        /** The agent answered "error: ...". */
        GUEST_ERROR
    }

    private final Kind kind;

    public AgentException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public AgentException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
