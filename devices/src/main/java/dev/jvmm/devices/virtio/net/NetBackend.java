package dev.jvmm.devices.virtio.net;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Where a virtio-net device's frames go and come from: a TAP, or an in-memory fake in tests. */
public interface NetBackend extends AutoCloseable {
    /** Whether frames may carry partial checksums and GSO both ways (the TAP took TUNSETOFFLOAD). */
    boolean offloadCapable();

    /** The guest accepted these TUN_F_* offloads for frames it receives. */
    void setGuestOffloads(int tunFlags);

    /** Sends one frame, virtio-net header first, from {@code frame}'s position to its limit. */
    void send(ByteBuffer frame) throws IOException;

    /** Starts handing received frames (header first) to {@code device}. */
    void start(NetDevice device);

    @Override
    void close();
}
