package dev.jvmm.agent;

import dev.jvmm.agent.AgentClient.Request;
import dev.jvmm.agent.AgentClient.Timeouts;
import dev.jvmm.agent.AgentException.Kind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;

import static dev.jvmm.agent.FakeVsock.exit;
import static dev.jvmm.agent.FakeVsock.frame;
import static dev.jvmm.agent.FakeVsock.header;
import static dev.jvmm.agent.FakeVsock.readLine;
import static dev.jvmm.agent.FakeVsock.silent;
import static dev.jvmm.agent.FakeVsock.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AgentClient against a fake VM socket: the protocol, its caps and timeouts, and a hostile guest. */
class AgentClientTest {
    private static final Timeouts SHORT = new Timeouts(Duration.ofMillis(500), Duration.ofMillis(500), Duration.ofMillis(500));

    @TempDir
    Path tmp;

    private FakeVsock vm;
    private final LinkedBlockingQueue<String> requests = new LinkedBlockingQueue<>();

    @AfterEach
    void closeVm() throws IOException {
        if (vm != null) {
            FakeVsock old = vm;
            vm = null;
            old.close();
            assertNull(old.failure(), "the fake guest's script failed");
        }
    }

    /** A fake VM that plays {@code guest} from the first byte, handshake included (one at a time: they share the path). */
    private AgentClient raw(FakeVsock.Guest guest) throws IOException {
        closeVm();
        vm = FakeVsock.start(tmp.resolve("vm.sock"), guest);
        return new AgentClient(vm.path(), SHORT);
    }

    private AgentClient agent(FakeVsock.Guest guest) throws IOException {
        closeVm();
        vm = FakeVsock.agent(tmp.resolve("vm.sock"), guest);
        return new AgentClient(vm.path(), SHORT);
    }

    /** An agent that records the request line and answers {@code reply} (raw, so without a newline if you like). */
    private AgentClient answering(String reply) throws IOException {
        return agent((in, out) -> {
            requests.add(readLine(in));
            write(out, reply);
            silent(in);
        });
    }

    private static AgentException fails(Kind kind, ThrowingRunnable r) {
        AgentException e = assertThrows(AgentException.class, r::run);
        assertEquals(kind, e.kind(), e.getMessage());
        return e;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void oneLineRequestsGetTheirReply() throws Exception {
        AgentClient c = answering("ready=1 slot=B version=2.0.0 uptime=12.34\n");
        assertEquals("ready=1 slot=B version=2.0.0 uptime=12.34", c.request(Request.STATUS));
        assertEquals("status", requests.take());
        assertEquals("pong", answering("pong\r\n").request(Request.PING)); // a fresh VM on the same path
    }

    @Test
    void replyLinesAreCappedAndCleaned() throws Exception {
        String longest = "v".repeat(AgentClient.MAX_LINE);
        assertEquals(longest, answering(longest + "\n").request(Request.VERSION));
        Exception e = fails(Kind.PROTOCOL, () -> answering(longest + "v\n").request(Request.VERSION));
        assertTrue(e.getMessage().contains("longer than 4096"), e.getMessage());
        assertEquals("B?[2J", answering("B\u001b[2J\n").request(Request.SLOT)); // no terminal escapes from a guest
    }

    @Test
    void anEndlessLineIsCutOffAtTheCap() throws Exception {
        AgentClient c = agent((in, out) -> {
            readLine(in);
            byte[] junk = new byte[65536];
            Arrays.fill(junk, (byte) 'a');
            for (int i = 0; i < 16 * 1024; i++) { // 1 GiB unless the client hangs up first, which it must
                out.write(junk);
            }
        });
        fails(Kind.PROTOCOL, () -> c.request(Request.STATUS));
    }

    @Test
    void errorRepliesAreGuestErrors() throws Exception {
        Exception e = fails(Kind.GUEST_ERROR, () -> answering("error: unknown request 'reboot'\n").request(Request.REBOOT));
        assertTrue(e.getMessage().contains("unknown request"), e.getMessage());
    }

    @Test
    void noSocketFile() {
        Exception e = fails(Kind.NO_SOCKET, () -> new AgentClient(tmp.resolve("none.sock"), SHORT).request(Request.PING));
        assertTrue(e.getMessage().contains("none.sock"), e.getMessage());
    }

    @Test
    void aStaleSocketFileIsNotAVm() throws Exception {
        Path stale = tmp.resolve("stale.sock");
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(stale));
        s.close(); // the file stays, nobody listens: a VM that died
        fails(Kind.NOT_LISTENING, () -> new AgentClient(stale, SHORT).request(Request.PING));
    }

    @Test
    void theGuestRefusingThePortClosesTheSocket() throws Exception {
        AgentClient c = raw((in, out) -> readLine(in)); // no OK: nothing on 1024
        Exception e = fails(Kind.REFUSED, () -> c.request(Request.PING));
        assertTrue(e.getMessage().contains("refused port 1024"), e.getMessage());
    }

    @Test
    void aHandshakeOtherThanOkIsAProtocolError() throws Exception {
        AgentClient no = raw((in, out) -> {
            readLine(in);
            write(out, "NO\n");
        });
        fails(Kind.PROTOCOL, () -> no.request(Request.PING));
        AgentClient endless = raw((in, out) -> {
            readLine(in);
            write(out, "OK " + "1".repeat(100)); // longer than any OK line
            silent(in);
        });
        fails(Kind.PROTOCOL, () -> endless.request(Request.PING));
    }

    @Test
    void silenceTimesOutInTheHandshakeAndInTheReply() throws Exception {
        AgentClient mute = raw((in, out) -> silent(in));
        long start = System.nanoTime();
        fails(Kind.TIMED_OUT, () -> mute.request(Request.PING));
        AgentClient c = agent((in, out) -> silent(in));
        fails(Kind.TIMED_OUT, () -> c.request(Request.PING));
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos(), "two 0.5 s timeouts took too long");
    }

    @Test
    void execSeparatesStdoutStderrAndStatus() throws Exception {
        AgentClient c = agent((in, out) -> {
            requests.add(readLine(in));
            frame(out, 'o', "out 1\n".getBytes(StandardCharsets.UTF_8));
            frame(out, 'e', "err\n".getBytes(StandardCharsets.UTF_8));
            frame(out, 'o', new byte[0]);
            frame(out, 'o', "out 2\n".getBytes(StandardCharsets.UTF_8));
            exit(out, 3);
        });
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        assertEquals(3, c.exec("ls -l / >&2; exit 3", o, e));
        assertEquals("exec ls -l / >&2; exit 3", requests.take());
        assertEquals("out 1\nout 2\n", o.toString(StandardCharsets.UTF_8));
        assertEquals("err\n", e.toString(StandardCharsets.UTF_8));
    }

    @Test
    void framesUpToTheCapPassAndBiggerOnesAreRefused() throws Exception {
        byte[] max = new byte[AgentClient.MAX_FRAME];
        Arrays.fill(max, (byte) 7);
        AgentClient c = agent((in, out) -> {
            readLine(in);
            frame(out, 'o', max);
            exit(out, 0);
        });
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        assertEquals(0, c.exec("big", o, OutputStream.nullOutputStream()));
        assertArrayEquals(max, o.toByteArray());
        Exception e = fails(Kind.PROTOCOL, () -> agent((in, out) -> {
            readLine(in);
            header(out, 'e', AgentClient.MAX_FRAME + 1L);
            silent(in);
        }).exec("big", OutputStream.nullOutputStream(), OutputStream.nullOutputStream()));
        assertTrue(e.getMessage().contains("1048577 bytes"), e.getMessage());
    }

    @Test
    void aTwoGibibyteFrameIsRefusedBeforeAnyAllocation() throws Exception {
        AgentClient c = agent((in, out) -> {
            readLine(in);
            header(out, 'o', 0x80000000L);
            out.flush();
            silent(in);
        });
        Exception e = fails(Kind.PROTOCOL, () -> c.exec("x", OutputStream.nullOutputStream(), OutputStream.nullOutputStream()));
        assertTrue(e.getMessage().contains("2147483648 bytes"), e.getMessage());
    }

    @Test
    void garbageFrameTypesAndBadExitFrames() throws Exception {
        for (byte[] bad : new byte[][] {
                {'z', 0, 0, 0, 1, 'q'},                 // unknown type
                {'e', 'r', 'r', 'o', 'R'},              // a 1.9 GB "frame"
                {'x', 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0}, // exit frame of the wrong size
                {'x', 0, 0, 0, 4, 0, 0, 3, (byte) 232}}) { // exit status 1000
            Exception e = fails(Kind.PROTOCOL, () -> agent((in, out) -> {
                readLine(in);
                out.write(bad);
                out.flush();
                silent(in);
            }).exec("x", OutputStream.nullOutputStream(), OutputStream.nullOutputStream()));
            assertTrue(e.getMessage().contains("agent"), e.getMessage());
        }
    }

    @Test
    void anErrorLineInsteadOfFramesIsAGuestError() throws Exception {
        Exception e = fails(Kind.GUEST_ERROR, () -> agent((in, out) -> {
            readLine(in);
            write(out, "error: busy (16 connections)\n");
        }).exec("x", OutputStream.nullOutputStream(), OutputStream.nullOutputStream()));
        assertTrue(e.getMessage().endsWith("error: busy (16 connections)"), e.getMessage());
    }

    @Test
    void closingMidFrameOrBeforeTheStatus() throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        fails(Kind.CLOSED, () -> agent((in, out) -> {
            readLine(in);
            header(out, 'o', 100);
            out.write("ten bytes.".getBytes(StandardCharsets.UTF_8));
        }).exec("x", o, OutputStream.nullOutputStream()));
        assertEquals("ten bytes.", o.toString(StandardCharsets.UTF_8)); // what came was passed on
        fails(Kind.CLOSED, () -> agent((in, out) -> {
            readLine(in);
            frame(out, 'o', "partial".getBytes(StandardCharsets.UTF_8));
        }).exec("x", OutputStream.nullOutputStream(), OutputStream.nullOutputStream()));
        fails(Kind.CLOSED, () -> agent((in, out) -> {
            readLine(in);
            out.write(new byte[] {'x', 0, 0});
        }).exec("x", OutputStream.nullOutputStream(), OutputStream.nullOutputStream()));
    }

    @Test
    void execWaitsOnlyAsLongAsAllowedForTheNextFrame() throws Exception {
        AgentClient c = agent((in, out) -> {
            readLine(in);
            frame(out, 'o', "started\n".getBytes(StandardCharsets.UTF_8));
            silent(in);
        });
        fails(Kind.TIMED_OUT, () -> c.exec("sleep 1000", OutputStream.nullOutputStream(), OutputStream.nullOutputStream()));
    }

    @Test
    void execCommandsMustBeOneLineWithinTheAgentsCap() throws Exception {
        AgentClient c = agent((in, out) -> {
            requests.add(readLine(in));
            exit(out, 0);
        });
        OutputStream none = OutputStream.nullOutputStream();
        String longest = "x".repeat(AgentClient.MAX_REQUEST - "exec \n".length());
        assertEquals(0, c.exec(longest, none, none));
        assertEquals("exec " + longest, requests.take());
        assertThrows(IllegalArgumentException.class, () -> c.exec(longest + "x", none, none));
        assertThrows(IllegalArgumentException.class, () -> c.exec("echo a\nreboot", none, none));
        assertThrows(IllegalArgumentException.class, () -> c.exec(" ", none, none));
        assertTrue(requests.isEmpty(), "refused commands are not sent");
    }
}
