package dev.jvmm.smoke;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The smoke run as CI systems read it: JUnit XML (one testsuite "jvmm smoke", a testcase per
 * image with its time, {@code <failure message=…>} with the reason and the failed boot's console
 * in {@code <system-out>}), and the same as JSON. Written with the JDK's StAX writer, which
 * escapes what a console can print; characters XML 1.0 cannot hold are replaced.
 */
final class SmokeReport {
    private SmokeReport() {}

    static void junit(List<SmokeResult> results, long wallMs, Path file) throws IOException {
        long failures = results.stream().filter(r -> !r.passed()).count();
        try (OutputStream out = Files.newOutputStream(file)) {
            XMLStreamWriter w = XMLOutputFactory.newFactory().createXMLStreamWriter(out, "UTF-8");
            w.writeStartDocument("UTF-8", "1.0");
            w.writeCharacters("\n");
            w.writeStartElement("testsuite");
            w.writeAttribute("name", "jvmm smoke");
            w.writeAttribute("tests", Integer.toString(results.size()));
            w.writeAttribute("failures", Long.toString(failures));
            w.writeAttribute("errors", "0");
            w.writeAttribute("skipped", "0");
            w.writeAttribute("time", seconds(wallMs));
            for (SmokeResult r : results) {
                w.writeCharacters("\n  ");
                w.writeStartElement("testcase");
                w.writeAttribute("classname", "jvmm.smoke");
                w.writeAttribute("name", r.image());
                w.writeAttribute("time", seconds(r.wallMs()));
                if (!r.passed()) {
                    w.writeCharacters("\n    ");
                    w.writeStartElement("failure");
                    w.writeAttribute("message", xmlSafe(r.reason()));
                    w.writeAttribute("type", "boot");
                    w.writeCharacters(xmlSafe(r.reason()));
                    w.writeEndElement();
                    w.writeCharacters("\n    ");
                    w.writeStartElement("system-out");
                    w.writeCharacters(xmlSafe(r.log()));
                    w.writeEndElement();
                    w.writeCharacters("\n  ");
                }
                w.writeEndElement();
            }
            w.writeCharacters("\n");
            w.writeEndElement();
            w.writeEndDocument();
            w.close();
        } catch (XMLStreamException e) {
            throw new IOException("writing " + file + ": " + e.getMessage(), e);
        }
    }

    static void json(List<SmokeResult> results, long wallMs, Path file) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("passed", results.stream().filter(SmokeResult::passed).count());
        doc.put("failed", results.stream().filter(r -> !r.passed()).count());
        doc.put("wall_ms", wallMs);
        doc.put("images", results.stream().map(SmokeResult::toJson).toList());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), doc);
    }

    private static String seconds(long ms) {
        return String.format(Locale.ROOT, "%.3f", ms / 1000.0);
    }

    /** Drops what XML 1.0 cannot carry (control characters a console prints: ESC, BEL, NUL). */
    static String xmlSafe(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0xd800) || (c >= 0xe000 && c < 0xfffe) ? c : '?');
        }
        return b.toString();
    }
}
