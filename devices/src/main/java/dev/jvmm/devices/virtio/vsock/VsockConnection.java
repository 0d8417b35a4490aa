package dev.jvmm.devices.virtio.vsock;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.util.ArrayDeque;

/**
 * One stream between a guest port and a host port, and its credit accounting both ways (virtio
 * 1.2, 5.10.6.3). Counters are the spec's wrapping 32-bit ones: every difference between them is
 * taken modulo 2^32, so a connection that moves more than 4 GiB keeps working. Guarded by the
 * device's monitor.
 */
final class VsockConnection {
    enum State { HOST_CONNECTING, GUEST_CONNECTING, ESTABLISHED }

    final int hostPort;
    final int guestPort;
    Channel channel;
    State state;
    // host to guest
    final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
    long pendingBytes;
    int txCnt;
    int peerBufAlloc;
    int peerFwdCnt;
    boolean creditRequested;
    /** A CREDIT_UPDATE is already queued: one carries the latest fwd_cnt, so more would be noise. */
    boolean creditUpdateQueued;
    int shutdownToGuest; // flags to send once pending data is delivered
    boolean shutdownSent;
    boolean paused;
    // guest to host
    int rxCnt;
    int fwdCnt;
    int lastSentFwdCnt;
    int guestShutdown;
    boolean outputShut;
    /** The guest knows of this connection: it asked for it, or jvmm's REQUEST reached it. */
    boolean announced;
    /** Guest bytes gathered while a write to the Unix socket is in flight; null when none. */
    ByteBuf toHost;
    /** A write to the Unix socket is in flight. */
    boolean writing;

    VsockConnection(int hostPort, int guestPort, State state) {
        this.hostPort = hostPort;
        this.guestPort = guestPort;
        this.state = state;
        this.announced = state == State.GUEST_CONNECTING;
    }

    static long key(int hostPort, int guestPort) {
        return ((long) hostPort << 32) | (guestPort & 0xffffffffL);
    }

    long key() {
        return key(hostPort, guestPort);
    }

    /** Bytes the guest has room for: buf_alloc less what is in flight, in wrapping arithmetic. */
    long peerCredit() {
        return (peerBufAlloc & 0xffffffffL) - ((txCnt - peerFwdCnt) & 0xffffffffL);
    }

    /** Bytes the guest sent that have not yet reached the Unix socket. */
    long unforwarded() {
        return (rxCnt - fwdCnt) & 0xffffffffL;
    }

    /** Bytes forwarded since the guest was last told fwd_cnt. */
    long unannouncedFwd() {
        return (fwdCnt - lastSentFwdCnt) & 0xffffffffL;
    }

    void credit(VsockPacket p) {
        peerBufAlloc = p.bufAlloc();
        peerFwdCnt = p.fwdCnt();
    }

    /** Releases the buffers held either way. */
    void dropPending() {
        for (ByteBuf b : pending) {
            b.release();
        }
        pending.clear();
        pendingBytes = 0;
        if (toHost != null) {
            toHost.release();
            toHost = null;
        }
    }
}
