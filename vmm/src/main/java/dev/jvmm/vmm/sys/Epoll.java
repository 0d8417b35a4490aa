package dev.jvmm.vmm.sys;


import java.nio.ByteBuffer;

/**
 * An epoll(7) set with a built-in wake-up: a thread that waits for file descriptors (eventfds,
 * a TAP) blocks in {@link #await} with no timeout, and another thread ends the wait at once with
 * {@link #wake}, instead of the waiter polling with a timeout just to notice a stop. Level-
 * triggered, so a ready fd the caller does not drain is reported again. One thread waits at a
 * time; registering, waking and closing may come from any thread (close only once the waiter is
 * gone).
 */
public final class Epoll implements AutoCloseable {
    public static final int IN = 0x001;
    public static final int ERR = 0x008;
    public static final int HUP = 0x010;

    static final int EPOLL_CLOEXEC = 0x80000;
    static final int CTL_ADD = 1;
    static final int CTL_DEL = 2;
    static final int CTL_MOD = 3;
    /** struct epoll_event is packed on x86-64 (u32 events, u64 data: 12 bytes), naturally aligned elsewhere. */
    static final int EVENT_SIZE = LibC.epollEventSize();
    private static final int DATA_OFFSET = EVENT_SIZE - 8;
    /** The token of the wake eventfd; callers' tokens are never negative. */
    private static final long WAKE = -1;

    private final int epfd;
    private final int wakeFd;
    private final int maxEvents;
    private final ByteBuffer events;
    private final ByteBuffer drain = Syscalls.struct(8);
    private final ByteBuffer one = Syscalls.struct(8);
    private final long[] readyTokens;
    private final int[] readyEvents;
    private int ready;
    private boolean woken;
    private boolean closed;

    /**
     * A set that reports at most {@code maxEvents} ready fds per wait, the wake-up included; the
     * kernel hands out ready fds round-robin, so the rest (and a wake) come in the next waits.
     */
    public Epoll(int maxEvents) {
        if (maxEvents < 1) {
            throw new IllegalArgumentException("maxEvents must be at least 1");
        }
        this.maxEvents = maxEvents;
        epfd = LibC.epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0) {
            throw new SyscallException("epoll_create1", LibC.lastError());
        }
        try {
            wakeFd = Syscalls.eventfd(Syscalls.EFD_NONBLOCK);
        } catch (RuntimeException e) {
            Syscalls.close(epfd);
            throw e;
        }
        try {
            ctl(CTL_ADD, wakeFd, IN, WAKE, "epoll_ctl(ADD wake eventfd)");
        } catch (RuntimeException e) {
            Syscalls.close(wakeFd);
            Syscalls.close(epfd);
            throw e;
        }
        events = Syscalls.struct(EVENT_SIZE * maxEvents);
        one.putLong(0, 1);
        readyTokens = new long[maxEvents];
        readyEvents = new int[maxEvents];
    }

    /** Watches {@code fd} for {@code interest} (IN; ERR and HUP are always reported); {@code token} comes back with it. */
    public void add(int fd, int interest, long token) {
        ctl(CTL_ADD, fd, interest, checkedToken(token), "epoll_ctl(ADD fd " + fd + ")");
    }

    public void modify(int fd, int interest, long token) {
        ctl(CTL_MOD, fd, interest, checkedToken(token), "epoll_ctl(MOD fd " + fd + ")");
    }

    public void remove(int fd) {
        ctl(CTL_DEL, fd, 0, 0, "epoll_ctl(DEL fd " + fd + ")");
    }

    private static long checkedToken(long token) {
        if (token < 0) {
            throw new IllegalArgumentException("epoll tokens are not negative: " + token);
        }
        return token;
    }

    private void ctl(int op, int fd, int interest, long token, String what) {
        ByteBuffer ev = Syscalls.struct(16);
        ev.putInt(0, interest).putLong(DATA_OFFSET, token);
        if (LibC.epoll_ctl(epfd, op, fd, Syscalls.address(ev)) != 0) {
            throw new SyscallException(what, LibC.lastError());
        }
    }

    /**
     * Waits until a watched fd is ready or {@link #wake} is called (before or during the wait),
     * at most {@code timeoutMs} (-1: no limit; interruptions by signals do not end it). Returns
     * how many watched fds are ready: read each with {@link #token} and {@link #events}; 0 when
     * only woken or timed out ({@link #woken} tells which).
     */
    public int await(int timeoutMs) {
        long deadline = timeoutMs < 0 ? 0 : System.nanoTime() + timeoutMs * 1_000_000L;
        int n;
        while (true) {
            int wait = timeoutMs < 0 ? -1 : (int) Math.max(0, (deadline - System.nanoTime() + 999_999) / 1_000_000);
            n = LibC.epoll_wait(epfd, Syscalls.address(events), maxEvents, wait);
            if (n >= 0) {
                break;
            }
            int errno = LibC.lastError();
            if (errno != Errno.EINTR) {
                throw new SyscallException("epoll_wait", errno);
            }
        }
        ready = 0;
        woken = false;
        for (int i = 0; i < n; i++) {
            long token = events.getLong(EVENT_SIZE * i + DATA_OFFSET);
            if (token == WAKE) {
                woken = true;
                Syscalls.readEventfd(wakeFd, drain); // non-blocking: a racing second wake just stays set
            } else {
                readyTokens[ready] = token;
                readyEvents[ready] = events.getInt(EVENT_SIZE * i);
                ready++;
            }
        }
        return ready;
    }

    /** The token of ready fd {@code i} (0 &lt;= i &lt; what {@link #await} returned). */
    public long token(int i) {
        checkIndex(i);
        return readyTokens[i];
    }

    /** What fd {@code i} is ready for: IN, and ERR or HUP when it broke. */
    public int events(int i) {
        checkIndex(i);
        return readyEvents[i];
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= ready) {
            throw new IndexOutOfBoundsException("ready fd " + i + " of " + ready);
        }
    }

    /** Whether the last {@link #await} was ended by {@link #wake}. */
    public boolean woken() {
        return woken;
    }

    /** Ends the current wait at once, or the next one if none is in progress; nothing once closed. */
    public synchronized void wake() {
        if (closed) {
            return; // the fd number may already be someone else's
        }
        long r = Syscalls.write(wakeFd, one, 8);
        // EAGAIN only when the counter is about to overflow: a wake-up is pending anyway.
        if (r != 8 && r != -Errno.EAGAIN) {
            throw new SyscallException("write(wake eventfd)", (int) -r);
        }
    }

    /** Closes the set; the fds it watched stay open (they are their owners'). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Syscalls.close(epfd);
            Syscalls.close(wakeFd);
        }
    }
}
