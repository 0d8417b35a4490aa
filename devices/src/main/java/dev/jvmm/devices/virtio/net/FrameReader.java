package dev.jvmm.devices.virtio.net;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The thread that moves frames from a backend (a TAP) into a {@link NetDevice}. It is its own
 * class so that what happens when something throws is one piece of code, tested without a TAP:
 * a failure never ends the thread; it puts the device in NEEDS_RESET, and rx works again once
 * the driver resets the device.
 */
final class FrameReader {
    /** Reads one frame, virtio-net header first, into {@code into} from position 0; its length, or 0 or less if none came. */
    @FunctionalInterface
    interface Source {
        long read(ByteBuffer into, int timeoutMs);
    }

    /** How long reading waits for the backend before it looks whether it should stop. */
    static final int READ_WAIT_MS = 100;
    /**
     * A safety net only: the device publishes avail_event when it finds rx empty, so the
     * driver's refill notifies and wakes the reader at once. This bounds the stall a guest that
     * refills without notifying would cause, and how long a failed device is waited for.
     */
    static final long REFILL_WAIT_MS = 1000;

    private final Source source;
    private final NetDevice device;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(NetDevice.MAX_FRAME).order(ByteOrder.LITTLE_ENDIAN);
    private volatile boolean running = true;
    private Thread thread;

    FrameReader(Source source, NetDevice device) {
        this.source = source;
        this.device = device;
    }

    void start(String name) {
        thread = new Thread(this::loop, name);
        thread.setDaemon(true);
        thread.start();
    }

    boolean isAlive() {
        return thread != null && thread.isAlive();
    }

    void stop() {
        running = false;
        device.wakeReceivers();
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void loop() {
        while (running) {
            try {
                buffer.clear();
                long n = source.read(buffer, READ_WAIT_MS);
                if (n <= 0) {
                    continue; // nothing yet, EAGAIN, EINTR; a TAP whose link went down reads EIO: keep polling
                }
                buffer.limit((int) n);
                while (running && !device.receiveOrWait(buffer, REFILL_WAIT_MS)) {
                    // waits for the guest's rx buffers; the frame stays, the backend is not read
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                // Errors too: a dead reader under a live VM would be a silent, permanent rx outage.
                device.rxFailed(t);
                try {
                    device.awaitRecovery(REFILL_WAIT_MS); // no busy loop if the backend keeps throwing
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
