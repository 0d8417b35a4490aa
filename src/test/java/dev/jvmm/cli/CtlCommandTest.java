package dev.jvmm.cli;

import dev.jvmm.agent.FakeVsock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;

import static dev.jvmm.agent.FakeVsock.exit;
import static dev.jvmm.agent.FakeVsock.frame;
import static dev.jvmm.agent.FakeVsock.readLine;
import static dev.jvmm.agent.FakeVsock.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** jvmm ctl: its arguments, its exit statuses, and its output against a fake VM's agent. */
class CtlCommandTest {
    @TempDir
    Path tmp;

    record Result(int status, String out, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        try (PrintStream o = new PrintStream(out, true); PrintStream e = new PrintStream(err, true)) {
            System.setOut(o);
            System.setErr(e);
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(o, true));
            cl.setErr(new PrintWriter(e, true));
            int status = cl.execute(args);
            return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static void assertOneLine(Result r, int status, String mention) {
        assertEquals(status, r.status(), r.err());
        assertTrue(r.err().contains(mention), "'" + r.err() + "' should mention '" + mention + "'");
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void argumentErrorsAreUsageErrors() {
        String uds = tmp.resolve("vm.sock").toString();
        assertOneLine(run("ctl", "status"), 2, "--uds");
        assertOneLine(run("ctl", "--uds", uds), 2, "REQUEST");
        assertOneLine(run("ctl", "--uds", uds, "frobnicate"), 2, "unknown request 'frobnicate'");
        assertOneLine(run("ctl", "--uds", uds, "exec"), 2, "exec needs a command");
        assertOneLine(run("ctl", "--uds", uds, "status", "now"), 2, "takes no arguments");
        assertOneLine(run("ctl", "--uds", uds, "--timeout", "0", "ping"), 2, "--timeout");
        assertOneLine(run("ctl", "--uds", uds, "exec", "echo a\nreboot"), 2, "one line");
        assertEquals(1, run("ctl", "--uds", uds, "frobnicate").err().lines().count(), "one line");
    }

    @Test
    void anUnreachableVmIsStatus70() {
        Result r = run("ctl", "--uds", tmp.resolve("none.sock").toString(), "status");
        assertOneLine(r, 70, "no socket at");
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void printsTheReplyLine() throws Exception {
        LinkedBlockingQueue<String> requests = new LinkedBlockingQueue<>();
        try (FakeVsock vm = FakeVsock.agent(tmp.resolve("vm.sock"), (in, out) -> {
            String req = readLine(in);
            requests.add(req);
            write(out, req.equals("slot") ? "B\n" : "error: no\n");
        })) {
            Result r = run("ctl", "--uds", vm.path().toString(), "slot");
            assertEquals(0, r.status(), r.err());
            assertEquals("B\n", r.out());
            assertEquals("slot", requests.take());
            assertOneLine(run("ctl", "--uds", vm.path().toString(), "poweroff"), 1, "error: no");
            assertEquals("poweroff", requests.take());
            assertNull(vm.failure());
        }
    }

    @Test
    void execPassesOutputAndStatusThrough() throws Exception {
        LinkedBlockingQueue<String> requests = new LinkedBlockingQueue<>();
        try (FakeVsock vm = FakeVsock.agent(tmp.resolve("vm.sock"), (in, out) -> {
            requests.add(readLine(in));
            frame(out, 'o', "listing\n".getBytes(StandardCharsets.UTF_8));
            frame(out, 'e', "warning\n".getBytes(StandardCharsets.UTF_8));
            exit(out, 7);
        })) {
            Result r = run("ctl", "--uds", vm.path().toString(), "exec", "ls", "-l", "/data");
            assertEquals(7, r.status(), r.err());
            assertEquals("listing\n", r.out());
            assertEquals("warning\n", r.err());
            assertEquals("exec ls -l /data", requests.take(), "the words after exec, options included, are the command");
            assertNull(vm.failure());
        }
    }

    @Test
    void aGuestBreakingTheProtocolIsStatus70() throws Exception {
        try (FakeVsock vm = FakeVsock.agent(tmp.resolve("vm.sock"), (in, out) -> {
            readLine(in);
            out.write(new byte[] {'?', 0, 0, 0, 0});
        })) {
            assertOneLine(run("ctl", "--uds", vm.path().toString(), "exec", "true"), 70, "unknown frame type 0x3f");
        }
    }
}
