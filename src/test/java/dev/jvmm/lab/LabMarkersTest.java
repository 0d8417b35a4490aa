package dev.jvmm.lab;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class LabMarkersTest {
    private static LabMarkers feed(ByteArrayOutputStream out, String text) throws Exception {
        LabMarkers m = new LabMarkers(out);
        for (byte b : text.getBytes(StandardCharsets.ISO_8859_1)) {
            m.write(b);
        }
        m.flush();
        return m;
    }

    @Test
    void exitMarkerIsTakenOutAndParsed() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LabMarkers m = feed(out, "guest says JVMM hi\r\nJVMM-LAB-EXIT=7\r\nafter\n");
        assertEquals(7, m.exitStatus());
        assertEquals("guest says JVMM hi\r\n\nafter\n", out.toString(StandardCharsets.ISO_8859_1));
        assertNull(m.error());
    }

    @Test
    void partialMatchesAreReleasedAndErrorsReported() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LabMarkers m = feed(out, "JVMM-LABX JJVMM-LAB-ERROR=no /dev/kvm\n");
        assertEquals("JVMM-LABX J", out.toString(StandardCharsets.ISO_8859_1));
        assertEquals("no /dev/kvm", m.error());
        assertNull(m.exitStatus());
    }

    @Test
    void argumentsAreQuotedForPicocliAtFiles() {
        assertEquals("\"console=ttyS0 a=\\\"b\\\"\"", Lab.quoteArg("console=ttyS0 a=\"b\""));
    }
}
