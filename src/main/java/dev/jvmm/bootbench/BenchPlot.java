package dev.jvmm.bootbench;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.SVGHints;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Paint;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code jvmm bench boot --plot FILE.svg}: two charts, one above the other, drawn by JFreeChart
 * on one JFreeSVG canvas, each in an SVG group of its own ({@code id="phases"}, {@code id="runs"}).
 *
 * <p>Above, a stacked horizontal bar per VMM: where its boot spends its time, each segment the
 * median over counted runs of (phase − the run's previous phase), in phase order, phases a run
 * lacks skipped (a milestone reached before an earlier one counts 0 ms). Medians of segments do
 * not add up to the median total; the bar shows the typical shape, the table gives the totals.
 *
 * <p>Below, every counted run's time to ready against its run index, one series per VMM, with
 * each VMM's p50 as a dashed line. A scatter rather than a box plot: with the tens of runs a boot
 * benchmark makes every run stays visible, and so does drift along the series (caches warming, a
 * busy neighbour on a shared host) that a box plot would fold into its whiskers; the p50 lines
 * are this package's {@link Stats}, not the charting library's own quartile rule.
 */
public final class BenchPlot {
    static final String PHASES_ID = "phases";
    static final String RUNS_ID = "runs";
    static final int WIDTH = 1000;
    private static final int RUNS_HEIGHT = 420;
    /**
     * A colour per phase, by ordinal (Tableau 20's qualitative palette: neighbours differ), so a
     * phase keeps its colour from one report to the next whichever phases the VMMs have.
     */
    private static final Color[] PHASE_COLORS = {
            new Color(0x4E79A7), new Color(0xA0CBE8), new Color(0xF28E2B), new Color(0xFFBE7D), new Color(0x59A14F),
            new Color(0x8CD17D), new Color(0xB6992D), new Color(0xF1CE63), new Color(0x499894), new Color(0xE15759),
            new Color(0xFF9D9A), new Color(0x79706E), new Color(0xBAB0AC)};

    static {
        // Charts draw on an SVG canvas, never a screen: no X server is needed or wanted.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private BenchPlot() {}

    public static void write(List<BootRun> runs, BenchSummary summary, Path file) throws IOException {
        Files.writeString(file, svg(runs, summary));
    }

    /**
     * The SVG document, as written to the file: an XML declaration and the svg element, without
     * the SVG 1.1 DOCTYPE JFreeSVG's own writer adds (SVG 2 drops it, and with it an XML parser
     * would fetch the W3C DTD, which fails offline).
     */
    static String svg(List<BootRun> runs, BenchSummary summary) {
        SVGGraphics2D g2 = new SVGGraphics2D(WIDTH, height(summary));
        draw(g2, runs, summary);
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + g2.getSVGElement() + "\n";
    }

    /** Height of the picture: the bar chart grows with the number of VMMs. */
    static int height(BenchSummary summary) {
        return phasesHeight(summary) + RUNS_HEIGHT;
    }

    private static int phasesHeight(BenchSummary summary) {
        return 200 + 60 * Math.max(1, summary.vmms().size());
    }

    /** Both charts on {@code g2}, {@link #WIDTH} by {@link #height}; groups where g2 is SVG (other canvases ignore the hints). */
    static void draw(Graphics2D g2, List<BootRun> runs, BenchSummary summary) {
        List<BootRun> counted = runs.stream().filter(r -> !r.warmup() && r.ok()).toList();
        int phasesHeight = phasesHeight(summary);
        g2.setPaint(Color.WHITE);
        g2.fill(new Rectangle2D.Double(0, 0, WIDTH, height(summary)));
        g2.setRenderingHint(SVGHints.KEY_BEGIN_GROUP, PHASES_ID);
        phasesChart(counted, summary).draw(g2, new Rectangle2D.Double(0, 0, WIDTH, phasesHeight));
        g2.setRenderingHint(SVGHints.KEY_END_GROUP, PHASES_ID);
        g2.setRenderingHint(SVGHints.KEY_BEGIN_GROUP, RUNS_ID);
        runsChart(counted, summary).draw(g2, new Rectangle2D.Double(0, phasesHeight, WIDTH, RUNS_HEIGHT));
        g2.setRenderingHint(SVGHints.KEY_END_GROUP, RUNS_ID);
    }

    /**
     * Per VMM, per phase, the median of the time from the run's previous phase to this one;
     * VMMs in the summary's order, phases in boot order, absent where no counted run has them.
     */
    static Map<String, Map<Phase, Double>> medianSegments(List<BootRun> counted, List<String> vmms) {
        Map<String, Map<Phase, Double>> result = new LinkedHashMap<>();
        for (String vmm : vmms) {
            Map<Phase, List<Double>> segments = new EnumMap<>(Phase.class);
            for (BootRun run : counted) {
                if (!run.vmm().equals(vmm)) {
                    continue;
                }
                double previous = 0;
                for (Map.Entry<Phase, Double> e : run.phases().entrySet()) {
                    double at = e.getValue();
                    segments.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(Math.max(0, at - previous));
                    previous = Math.max(previous, at);
                }
            }
            Map<Phase, Double> medians = new EnumMap<>(Phase.class);
            segments.forEach((p, values) -> medians.put(p, Stats.of(values).p50()));
            result.put(vmm, medians);
        }
        return result;
    }

    private static JFreeChart phasesChart(List<BootRun> counted, BenchSummary summary) {
        List<String> vmms = summary.vmms().stream().map(BenchSummary.VmmStats::vmm).toList();
        Map<String, Map<Phase, Double>> segments = medianSegments(counted, vmms);
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        List<Phase> shown = new ArrayList<>();
        for (Phase p : Phase.values()) {
            if (segments.values().stream().noneMatch(m -> m.containsKey(p))) {
                continue;
            }
            shown.add(p);
            for (String vmm : vmms) {
                // Registers every cell, so VMMs keep the summary's order whichever phases they have.
                data.addValue(segments.get(vmm).get(p), p.label, vmm);
            }
        }
        JFreeChart chart = ChartFactory.createStackedBarChart("Where a boot spends its time",
                "VMM", "ms from process start (median of each phase's duration)", data,
                PlotOrientation.HORIZONTAL, true, false, false);
        chart.addSubtitle(new TextTitle("counted runs only (warm-ups and failures left out)"));
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setNoDataMessage("no counted runs");
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (int row = 0; row < shown.size(); row++) {
            plot.getRenderer().setSeriesPaint(row, PHASE_COLORS[shown.get(row).ordinal() % PHASE_COLORS.length]);
        }
        return chart;
    }

    private static JFreeChart runsChart(List<BootRun> counted, BenchSummary summary) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (BenchSummary.VmmStats v : summary.vmms()) {
            XYSeries series = new XYSeries(v.vmm(), true, true);
            counted.stream().filter(r -> r.vmm().equals(v.vmm()) && r.at(BenchSummary.TIME_TO_READY) != null)
                    .forEach(r -> series.add(r.index(), r.at(BenchSummary.TIME_TO_READY)));
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createScatterPlot("Time to ready, run by run", "run index",
                "ms from process start to guest ready", data, PlotOrientation.VERTICAL, true, false, false);
        chart.addSubtitle(new TextTitle("counted runs; dashed lines: p50 per VMM"));
        XYPlot plot = chart.getXYPlot();
        plot.setNoDataMessage("no counted run reached ready");
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (int i = 0; i < summary.vmms().size(); i++) {
            BenchSummary.VmmStats v = summary.vmms().get(i);
            Stats ready = v.timeToReady();
            if (ready.isEmpty()) {
                continue;
            }
            Paint paint = plot.getRenderer().getItemPaint(i, 0);
            ValueMarker marker = new ValueMarker(ready.p50(), paint,
                    new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f));
            marker.setLabel(String.format(Locale.ROOT, "%s p50 %.0f ms", v.vmm(), ready.p50()));
            marker.setLabelPaint(paint instanceof Color c ? c.darker() : paint);
            marker.setLabelBackgroundColor(new Color(255, 255, 255, 200));
            marker.setLabelAnchor(RectangleAnchor.TOP_LEFT);
            marker.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
            plot.addRangeMarker(marker);
        }
        return chart;
    }
}
