package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.DeviceMetrics;
import dev.jvmm.devices.virtio.vsock.VsockConnection.State;
import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The connection table of one vsock device and the replies waiting for the guest's rx buffers,
 * with their caps, and the steps of the connection state machine that both directions share
 * (RST, closing once both sides are done). Guarded by the device's monitor, like all its state.
 */
final class VsockConnections {
    /** Open connections, each a host file descriptor; Firecracker's muxer caps at 1023 too. */
    static final int MAX_CONNECTIONS = 1023;
    /** Replies waiting for rx buffers before tx is held back: a full rx ring's worth. */
    static final int MAX_PENDING_REPLIES = 256;
    /**
     * Queue length past which replies for connections that are gone are purged. What stays is
     * bounded: guest-driven replies by {@link #MAX_PENDING_REPLIES} (tx is held), host-driven
     * ones by a few per live connection (REQUEST or RESPONSE, one coalesced CREDIT_UPDATE, one
     * CREDIT_REQUEST) and one RST per connection the guest knew of.
     */
    static final int PURGE_AT = 2 * (MAX_PENDING_REPLIES + 3 * MAX_CONNECTIONS);

    /** A packet for the guest with no payload; {@code conn} is null for a RST to a pair with no connection. */
    record Reply(int hostPort, int guestPort, int op, int flags, VsockConnection conn) {}

    private final DeviceMetrics metrics;
    private final Map<Long, VsockConnection> conns = new HashMap<>();
    private final ArrayDeque<Reply> replies = new ArrayDeque<>();
    private int nextHostPort = VsockDevice.FIRST_HOST_PORT;
    private int roundRobin;
    /** Host sockets accepted that have not sent their CONNECT line yet: they hold fds too. */
    private int handshaking;

    VsockConnections(DeviceMetrics metrics) {
        this.metrics = metrics;
    }

    int size() {
        return conns.size();
    }

    VsockConnection get(int hostPort, int guestPort) {
        return conns.get(VsockConnection.key(hostPort, guestPort));
    }

    /** Whether {@code c} is still the table's connection for its pair (not reset, replaced or closed). */
    boolean isLive(VsockConnection c) {
        return conns.get(c.key()) == c;
    }

    void add(VsockConnection c) {
        conns.put(c.key(), c);
    }

    /** Whether one more connection, or host socket awaiting its CONNECT line, would pass the cap. */
    boolean atCapacity() {
        return conns.size() + handshaking >= MAX_CONNECTIONS;
    }

    void handshakeStarted() {
        handshaking++;
    }

    void handshakeEnded() {
        handshaking--;
    }

    int allocateHostPort(int guestPort) {
        while (true) {
            int p = nextHostPort++;
            if (nextHostPort == 0) {
                nextHostPort = VsockDevice.FIRST_HOST_PORT;
            }
            if (!conns.containsKey(VsockConnection.key(p, guestPort))) {
                return p;
            }
        }
    }

    // ---------------------------------------------------------------- replies

    int pendingReplies() {
        return replies.size();
    }

    boolean repliesFull() {
        return replies.size() >= MAX_PENDING_REPLIES;
    }

    void reply(VsockConnection c, int op) {
        queue(new Reply(c.hostPort, c.guestPort, op, 0, c));
    }

    private void queue(Reply r) {
        if (replies.size() >= PURGE_AT) {
            replies.removeIf(old -> old.conn() != null && !isLive(old.conn()));
        }
        replies.add(r);
    }

    /** Queues one CREDIT_UPDATE for {@code c}; when it goes it carries the latest counters, so one is enough. */
    void creditUpdate(VsockConnection c) {
        if (!c.creditUpdateQueued) {
            c.creditUpdateQueued = true;
            reply(c, VsockPacket.OP_CREDIT_UPDATE);
        }
    }

    /** The next reply to send, skipping those whose connection went meanwhile (a RST went or will go). */
    Reply peekReply() {
        Reply r;
        while ((r = replies.peek()) != null && r.conn() != null && !isLive(r.conn())) {
            replies.poll();
        }
        return r;
    }

    void pollReply() {
        replies.poll();
    }

    boolean hasReplies() {
        return peekReply() != null;
    }

    // ---------------------------------------------------------------- connection state

    /**
     * Sends RST for the pair and forgets the connection, if there is one. A host connection whose
     * REQUEST never reached the guest just goes: its REQUEST is dropped unsent, and a RST would
     * be one more reply for a pair the guest never heard of (a host opening and closing sockets
     * while the guest posts no rx buffers would otherwise grow the queue without end).
     */
    void rst(int hostPort, int guestPort, VsockConnection c) {
        if (c == null || c.announced) {
            queue(new Reply(hostPort, guestPort, VsockPacket.OP_RST, 0, null));
            metrics.increment("rst_sent");
        }
        if (c != null) {
            remove(c);
        }
    }

    void rst(VsockConnection c) {
        rst(c.hostPort, c.guestPort, c);
    }

    /** Forgets {@code c} and closes its Unix socket (its host fd goes). */
    void remove(VsockConnection c) {
        if (isLive(c)) {
            conns.remove(c.key());
        }
        c.dropPending();
        if (c.channel != null) {
            c.channel.close();
        }
    }

    /** Closes every connection's Unix socket (host fds released) and forgets what was queued. */
    void closeAll() {
        for (VsockConnection c : conns.values()) {
            c.dropPending();
            if (c.channel != null) {
                c.channel.close();
            }
        }
        conns.clear();
        replies.clear();
    }

    /** Acts on the guest's SHUTDOWN once everything it sent has reached the Unix socket. */
    void finishGuestShutdown(VsockConnection c) {
        if (c.guestShutdown == 0 || c.unforwarded() != 0 || !isLive(c)) {
            return;
        }
        if (c.guestShutdown == (VsockPacket.SHUTDOWN_RCV | VsockPacket.SHUTDOWN_SEND)) {
            rst(c); // the guest closed: RST completes its close
        } else if ((c.guestShutdown & VsockPacket.SHUTDOWN_SEND) != 0 && !c.outputShut && c.channel instanceof DuplexChannel ch) {
            c.outputShut = true;
            ch.shutdownOutput();
        }
        finishIfBothDone(c);
    }

    /** Both sides have stopped sending and everything was delivered: RST ends it for the guest. */
    void finishIfBothDone(VsockConnection c) {
        if (isLive(c) && c.outputShut && c.shutdownSent && (c.shutdownToGuest & VsockPacket.SHUTDOWN_SEND) != 0
                && c.pendingBytes == 0) {
            rst(c);
        }
    }

    /** The next connection with something for the guest that credit allows; asks for credit where it ran out. */
    VsockConnection nextSender() {
        if (conns.isEmpty()) {
            return null;
        }
        List<VsockConnection> all = new ArrayList<>(conns.values());
        for (int i = 0; i < all.size(); i++) {
            VsockConnection c = all.get((roundRobin + i) % all.size());
            if (c.state != State.ESTABLISHED) {
                continue;
            }
            if (c.pendingBytes > 0) {
                if (c.peerCredit() > 0) {
                    roundRobin = (roundRobin + i + 1) % all.size();
                    return c;
                }
                if (!c.creditRequested) {
                    c.creditRequested = true;
                    reply(c, VsockPacket.OP_CREDIT_REQUEST);
                }
            } else if (c.shutdownToGuest != 0 && !c.shutdownSent) {
                return c;
            }
        }
        return null;
    }

    /**
     * Pauses or resumes reading a Unix socket. Once its input is shut (the host half-closed), Netty
     * has taken it out of epoll's read set, and changing that would fail (epoll_ctl: ENOENT).
     */
    static void setAutoRead(Channel ch, boolean on) {
        if (ch instanceof DuplexChannel d && d.isInputShutdown()) {
            return;
        }
        ch.config().setAutoRead(on);
    }
}
