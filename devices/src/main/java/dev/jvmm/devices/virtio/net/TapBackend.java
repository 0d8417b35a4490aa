package dev.jvmm.devices.virtio.net;

import dev.jvmm.vmm.sys.Tap;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A TAP as a virtio-net backend: frames from the guest are written to it one write each; a
 * {@link FrameReader} thread polls it and hands frames to the device, holding a frame (and so
 * stopping reading) while the guest has no rx buffer.
 */
public final class TapBackend implements NetBackend {
    private final Tap tap;
    private final boolean offload;
    private FrameReader reader;

    public TapBackend(Tap tap) {
        this.tap = tap;
        // Probe: can this TAP hand us offloaded frames? Start with none until the guest says.
        this.offload = tap.setOffload(Tap.TUN_F_CSUM | Tap.TUN_F_TSO4 | Tap.TUN_F_TSO6 | Tap.TUN_F_TSO_ECN);
        tap.setOffload(0);
    }

    public static TapBackend open(String name) throws Tap.TapException {
        return new TapBackend(Tap.open(name, NetDevice.HEADER_SIZE));
    }

    @Override
    public boolean offloadCapable() {
        return offload;
    }

    @Override
    public void setGuestOffloads(int tunFlags) {
        if (offload) {
            tap.setOffload(tunFlags);
        }
    }

    @Override
    public void send(ByteBuffer frame) throws IOException {
        ByteBuffer at = frame.position() == 0 ? frame : frame.slice();
        long r = tap.write(at, at.remaining());
        if (r < 0) {
            throw new IOException("write to TAP " + tap.name() + ": errno " + (-r));
        }
    }

    @Override
    public void start(NetDevice device) {
        reader = new FrameReader((into, timeoutMs) -> tap.waitReadable(timeoutMs) ? tap.read(into) : 0, device);
        reader.start("tap-" + tap.name());
    }

    @Override
    public void close() {
        if (reader != null) {
            reader.stop();
        }
        tap.close();
    }
}
