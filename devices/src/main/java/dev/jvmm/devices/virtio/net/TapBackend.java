package dev.jvmm.devices.virtio.net;

import dev.jvmm.vmm.sys.Epoll;
import dev.jvmm.vmm.sys.Tap;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A TAP as a virtio-net backend: frames from the guest are written to it one write each; a
 * {@link FrameReader} thread waits for it in epoll (no timeout: closing wakes it) and hands
 * frames to the device, holding a frame (and so stopping reading) while the guest has no rx
 * buffer. A TAP deleted under the VM is one rx failure (NEEDS_RESET, named in the log), after
 * which the reader leaves it alone.
 */
public final class TapBackend implements NetBackend {
    private final Tap tap;
    private final boolean offload;
    private Epoll epoll;
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
        epoll = new Epoll(2);
        tap.watch(epoll, 0);
        reader = new FrameReader(new TapSource(epoll), device);
        reader.start("tap-" + tap.name());
    }

    /** The TAP's frames, as its fd becomes readable. Used by the reader thread only. */
    private final class TapSource implements FrameReader.Source {
        private final Epoll epoll;
        private boolean gone;

        TapSource(Epoll epoll) {
            this.epoll = epoll;
        }

        @Override
        public long read(ByteBuffer into) throws IOException {
            if (epoll.await(-1) == 0) {
                return 0; // woken
            }
            if ((epoll.events(0) & (Epoll.ERR | Epoll.HUP)) != 0 && !gone) {
                // Level-triggered and permanent (the interface was deleted): stop watching, or this spins.
                gone = true;
                tap.unwatch(epoll);
                throw new IOException("TAP " + tap.name() + " is gone (deleted on the host?); no more frames come from it");
            }
            return tap.read(into);
        }

        @Override
        public void wake() {
            epoll.wake();
        }
    }

    @Override
    public void close() {
        boolean stopped = reader == null || reader.stop();
        if (epoll != null && stopped) {
            epoll.close(); // else the reader still waits in it; the process is ending anyway
        }
        tap.close();
    }
}
