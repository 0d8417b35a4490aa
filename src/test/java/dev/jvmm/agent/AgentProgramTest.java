package dev.jvmm.agent;

import dev.jvmm.agent.AgentClient.Request;
import dev.jvmm.agent.AgentClient.Timeouts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The guest agent itself: jvmm-agent.c compiles warning-free the way images need it, and the
 * compiled agent, told by JVMM_AGENT_UNIX to use Unix sockets instead of vsock, speaks the protocol
 * AgentClient and ReadyListener expect. Nothing here asks it to reboot (tests run as root).
 */
class AgentProgramTest {
    private static final String ROOTFS = "/dev/jvmm/images/rootfs/";
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    static Path dir;

    private static String compileOutput;
    private static int compileStatus = -1;
    private static Process agent;
    private static Path agentSocket;
    private static FakeVsock vm;
    private static AgentClient client;

    @BeforeAll
    static void compileAndStart() throws Exception {
        assumeTrue(onPath("gcc"), "gcc is not installed, so jvmm-agent.c is not checked (apt-get install gcc libc6-dev)");
        Path source = dir.resolve("jvmm-agent.c");
        Files.writeString(source, resource("jvmm-agent.c"));
        Path binary = dir.resolve("jvmm-agent");
        Process gcc = new ProcessBuilder("gcc", "-static", "-Os", "-Wall", "-Wextra", "-Werror", "-o", binary.toString(), source.toString())
                .redirectErrorStream(true).start();
        compileOutput = new String(readCapped(gcc.getInputStream()), StandardCharsets.UTF_8);
        assertTrue(gcc.waitFor(120, TimeUnit.SECONDS), "gcc took over two minutes");
        compileStatus = gcc.exitValue();
        assumeTrue(compileStatus == 0 || !compileOutput.contains("cannot find -lc"),
                "no static C library (apt-get install libc6-dev): " + compileOutput);
        if (compileStatus != 0) {
            return; // compilesWarningFree reports it
        }
        agentSocket = dir.resolve("agent.sock");
        ProcessBuilder pb = new ProcessBuilder(binary.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("agent.log").toFile());
        pb.environment().put("JVMM_AGENT_UNIX", agentSocket.toString());
        agent = pb.start();
        long until = System.nanoTime() + WAIT.toNanos();
        while (!Files.exists(agentSocket) && agent.isAlive() && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertTrue(Files.exists(agentSocket), "the agent did not listen: " + Files.readString(dir.resolve("agent.log")));
        vm = FakeVsock.proxy(dir.resolve("vm.sock"), agentSocket);
        client = new AgentClient(vm.path(), new Timeouts(WAIT, WAIT, WAIT));
    }

    @AfterAll
    static void stop() throws Exception {
        if (vm != null) {
            vm.close();
        }
        if (agent != null) {
            agent.destroy(); // our own child, by its handle
            agent.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void assumeRunning() {
        assumeTrue(agent != null, "the agent was not compiled");
    }

    @Test
    void compilesWarningFree() {
        assertEquals(0, compileStatus, compileOutput);
        assertEquals("", compileOutput.strip(), "gcc had something to say");
    }

    @Test
    void answersLineRequests() throws Exception {
        assumeRunning();
        assertEquals("pong", client.request(Request.PING));
        assertEquals(field(Files.readString(Path.of("/etc/os-release")), "VERSION_ID"), client.request(Request.VERSION));
        String slot = field(Files.readString(Path.of("/proc/cmdline")), "jvmm.slot");
        assertEquals(slot, client.request(Request.SLOT));
        String status = client.request(Request.STATUS);
        assertTrue(status.matches("ready=[01] slot=" + Pattern.quote(slot) + " version=\\S+ uptime=[0-9]+\\.[0-9]+"), status);
    }

    @Test
    void execSeparatesOutputsAndReportsTheStatus() throws Exception {
        assumeRunning();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(3, client.exec("echo out; echo err >&2; cat; exit 3", out, err)); // cat: stdin is /dev/null
        assertEquals("out\n", out.toString(StandardCharsets.UTF_8));
        assertEquals("err\n", err.toString(StandardCharsets.UTF_8));
        assertEquals(137, client.exec("kill -9 $$", out, err));
        assertEquals(127, client.exec("no-such-command-here 2>/dev/null", out, err));
    }

    @Test
    void execStreamsAMebibyte() throws Exception {
        assumeRunning();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, client.exec("head -c 1048576 /dev/zero; echo done >&2", out, err));
        byte[] got = out.toByteArray();
        assertEquals(1 << 20, got.length);
        for (byte b : got) {
            assertEquals(0, b);
        }
        assertEquals("done\n", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void requestLinesAreCappedAndUnknownOnesRefused() throws Exception {
        assumeRunning();
        long deadline = System.nanoTime() + WAIT.toNanos();
        try (Wire w = Wire.connect(agentSocket, deadline)) { // straight to the agent, no vsock handshake
            w.write("bogus\n".getBytes(StandardCharsets.US_ASCII), deadline);
            assertEquals("error: unknown request 'bogus'", w.readLine(4096, deadline));
            String longest = "y".repeat(AgentClient.MAX_REQUEST - 1);
            w.write((longest + "\n").getBytes(StandardCharsets.US_ASCII), deadline);
            assertEquals("error: unknown request '" + "y".repeat(64) + "'", w.readLine(4096, deadline));
            w.write(("z" + longest + "\n").getBytes(StandardCharsets.US_ASCII), deadline);
            assertEquals("error: request longer than 4095 bytes", w.readLine(4096, deadline));
        }
        assertEquals("pong", client.request(Request.PING), "the agent lives on");
    }

    @Test
    void connectionsAreCappedAtSixteen() throws Exception {
        assumeRunning();
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<Wire> held = new ArrayList<>();
        try {
            while (held.size() < 16) { // sixteen served connections (earlier tests' may still be ending: retry)
                Wire w = Wire.connect(agentSocket, deadline);
                w.write("ping\n".getBytes(StandardCharsets.US_ASCII), deadline);
                String answer = w.readLine(4096, deadline);
                if ("pong".equals(answer)) {
                    held.add(w);
                } else {
                    w.close();
                    assertTrue(System.nanoTime() < deadline, "only " + held.size() + " connections served");
                    Thread.sleep(50);
                }
            }
            try (Wire extra = Wire.connect(agentSocket, deadline)) {
                assertEquals("error: busy (16 connections)", extra.readLine(4096, deadline));
            }
        } finally {
            for (Wire w : held) {
                w.close();
            }
        }
        while (true) { // the agent reaps them and serves again
            try {
                assertEquals("pong", client.request(Request.PING));
                break;
            } catch (AgentException busy) {
                assertTrue(System.nanoTime() < deadline, busy.getMessage());
                Thread.sleep(50);
            }
        }
    }

    @Test
    void aHostThatHangsUpKillsTheCommand() throws Exception {
        assumeRunning();
        long deadline = System.nanoTime() + WAIT.toNanos();
        String pid;
        try (Wire w = Wire.connect(agentSocket, deadline)) {
            w.write("exec echo $$; exec sleep 60\n".getBytes(StandardCharsets.US_ASCII), deadline);
            byte[] head = new byte[5];
            assertTrue(w.readFully(head, deadline));
            assertEquals('o', head[0]);
            byte[] text = new byte[ByteBuffer.wrap(head, 1, 4).getInt()];
            assertTrue(w.readFully(text, deadline));
            pid = new String(text, StandardCharsets.US_ASCII).strip();
        }
        Path proc = Path.of("/proc", pid);
        while (Files.exists(proc) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(Files.exists(proc), "sleep " + pid + " outlived its connection");
        assertEquals("pong", client.request(Request.PING), "the agent lives on");
    }

    @Test
    void notifyReadyReportsTheHostsAnswer() throws Exception {
        assumeRunning();
        List<ReadyListener.Ready> heard = new CopyOnWriteArrayList<>();
        try (ReadyListener l = ReadyListener.open(agentSocket, r -> {
            heard.add(r);
            return "MARKED " + r.slot();
        })) {
            assertEquals(dir.resolve("agent.sock_1025"), l.path());
            String out = notifyReady();
            String slot = field(Files.readString(Path.of("/proc/cmdline")), "jvmm.slot");
            assertEquals("jvmm-os: host: MARKED " + slot + "\n", out);
            String version = field(Files.readString(Path.of("/etc/os-release")), "VERSION_ID");
            assertEquals(List.of(new ReadyListener.Ready(slot, version)), heard);
        }
    }

    @Test
    void notifyReadyWithoutAListenerGivesUpQuietly() throws Exception {
        assumeRunning();
        long start = System.nanoTime();
        assertEquals("jvmm-os: no host listener for readiness (port 1025)\n", notifyReady());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "it must not hold up the boot");
    }

    @Test
    void initNotifiesTheHostOnceHealthy() {
        String init = resource("init.sh");
        int timer = init.indexOf("\njvmm_ready\n");
        int marker = init.indexOf(": > /run/jvmm-ready\n");
        int notify = init.indexOf("/usr/bin/jvmm-agent notify-ready\n");
        assertTrue(timer >= 0 && timer < marker && marker < notify, init);
        assertTrue(notify < init.indexOf("jvmm.exit_when_ready=1"), "before a test boot ends the VM");
    }

    /** Runs the agent's notify-ready mode and returns its output (it must exit 0). */
    private static String notifyReady() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(dir.resolve("jvmm-agent").toString(), "notify-ready").redirectErrorStream(true);
        pb.environment().put("JVMM_AGENT_UNIX", agentSocket.toString());
        Process p = pb.start();
        String out = new String(readCapped(p.getInputStream()), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** The agent's own reading of "key=value" words: unquoted, "unknown" when absent. */
    private static String field(String text, String key) {
        Matcher m = Pattern.compile("(?:^|[ \\n])" + Pattern.quote(key) + "=\"?([^ \\t\\r\\n\"]+)").matcher(text);
        return m.find() ? m.group(1) : "unknown";
    }

    private static String resource(String name) {
        try (InputStream in = AgentProgramTest.class.getResourceAsStream(ROOTFS + name)) {
            assertTrue(in != null, "no resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A child's output, up to 1 MiB (a test's own cap). */
    private static byte[] readCapped(InputStream in) throws IOException {
        byte[] b = in.readNBytes(1 << 20);
        in.transferTo(OutputStream.nullOutputStream());
        return b;
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }
}
