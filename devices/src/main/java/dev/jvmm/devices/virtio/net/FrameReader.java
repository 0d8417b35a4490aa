package dev.jvmm.devices.virtio.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.BooleanSupplier;

/**
 * The thread that moves frames from a backend (a TAP) into a {@link NetDevice}. It is its own
 * class so that what happens when something throws is one piece of code, tested without a TAP:
 * a failure never ends the thread; it puts the device in NEEDS_RESET, and rx works again once
 * the driver resets the device.
 *
 * <p>Every wait is for an event, none has a timeout: the backend's next frame (its fd in epoll),
 * then, while the guest has no rx buffer, the guest's refill notify (the device publishes
 * avail_event before it waits, so a driver that follows the spec notifies); after a failure, the
 * driver's reset. {@link #stop} wakes whichever wait is in progress.
 */
final class FrameReader {
    /** Where frames come from. */
    interface Source {
        /**
         * Waits for the next frame and reads it, virtio-net header first, into {@code into} from
         * position 0; returns its length, or 0 or less if none came (woken by {@link #wake},
         * EAGAIN, EINTR, a read that failed and lost its frame).
         */
        long read(ByteBuffer into) throws IOException;

        /** Makes a {@link #read} that waits, or the next one, return at once. */
        void wake();
    }

    private final Source source;
    private final NetDevice device;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(NetDevice.MAX_FRAME).order(ByteOrder.LITTLE_ENDIAN);
    private final BooleanSupplier running;
    private volatile boolean stopping;
    private Thread thread;

    FrameReader(Source source, NetDevice device) {
        this.source = source;
        this.device = device;
        this.running = () -> !stopping;
    }

    void start(String name) {
        thread = new Thread(this::loop, name);
        thread.setDaemon(true);
        thread.start();
    }

    boolean isAlive() {
        return thread != null && thread.isAlive();
    }

    /** Stops the thread, waking it wherever it waits; true once it has ended. */
    boolean stop() {
        stopping = true;
        source.wake();
        device.wakeReceivers();
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return !isAlive();
    }

    private void loop() {
        while (!stopping) {
            try {
                buffer.clear();
                long n = source.read(buffer);
                if (n <= 0) {
                    continue; // woken (stop looks at the loop's condition), or nothing after all
                }
                buffer.limit((int) n);
                // Waits for the guest's rx buffers: the frame stays, the backend is not read.
                device.receiveOrWait(buffer, running);
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                // Errors too: a dead reader under a live VM would be a silent, permanent rx outage.
                device.rxFailed(t);
                try {
                    device.awaitRecovery(running); // until the driver resets (or starts) the device
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
