// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.scxemu.harness.LatencySummary;
import org.scxemu.harness.RunResult;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.ScxOp;

/** The human-readable summary {@code run} prints at the end: per CPU, ops, kfuncs, latencies. */
final class SummaryTable {
    private static final int WIDTH = 100;

    private SummaryTable() {
    }

    static String seconds(long ns) {
        return String.format(Locale.ROOT, "%.2fs", ns / 1e9);
    }

    private static String us(long ns) {
        return String.format(Locale.ROOT, "%.1f", ns / 1e3);
    }

    static void print(PrintWriter out, RunResult r) {
        out.println();
        out.printf(Locale.ROOT, "summary: %s on %d CPUs, workload %s, kernel %s, seed %d: ran %s, exit %s (%s)%n",
                r.spec.scheduler(), r.spec.cpus(), r.workloadName, r.spec.kernelProfile().id, r.spec.seed(),
                seconds(r.durationNs), r.exitKindName, r.exitReason);
        out.println();
        out.printf("%5s %7s %11s %12s %13s %11s%n", "cpu", "busy%", "switches", "rel_windows", "cpu_released",
                "pnt_seq");
        long sw = 0;
        long busy = 0;
        long windows = 0;
        long seq = 0;
        for (RunResult.CpuSummary c : r.perCpu) {
            out.printf(Locale.ROOT, "%5d %7.1f %11d %12d %13d %11d%n", c.cpu(), pct(c.busyNs(), r.durationNs),
                    c.nrSwitches(), c.releaseWindows(), c.cpuReleased() ? 1 : 0, c.pntSeq());
            sw += c.nrSwitches();
            busy += c.busyNs();
            windows += c.releaseWindows();
            seq += c.pntSeq();
        }
        out.printf(Locale.ROOT, "%5s %7.1f %11d %12d %13s %11d%n", "all",
                pct(busy, r.durationNs * Math.max(1, r.perCpu.size())), sw, windows, "", seq);
        out.println();

        List<String> ops = new ArrayList<>();
        for (ScxOp op : ScxOp.values()) {
            if (r.opCalls[op.ordinal()] != 0) {
                ops.add(op.kname + "=" + r.opCalls[op.ordinal()]);
            }
        }
        wrap(out, "ops:     ", ops);
        List<String> kfs = new ArrayList<>();
        for (Kfunc kf : Kfunc.values()) {
            if (r.kfuncCalls[kf.ordinal()] != 0) {
                kfs.add(kf.kname + "=" + r.kfuncCalls[kf.ordinal()]);
            }
        }
        wrap(out, "kfuncs:  ", kfs);
        out.println("reenqueued tasks: " + r.reenqueuedTasks);
        out.println();

        out.printf("%-14s %10s %11s %11s %11s %11s%n", "latency (us)", "count", "p50", "p99", "p99.9", "max");
        latency(out, "wait", r.wait);
        latency(out, "stranded", r.stranded);
        out.println();

        List<String> stats = new ArrayList<>();
        for (Map.Entry<String, Long> e : r.schedulerStats.entrySet()) {
            stats.add(e.getKey() + "=" + e.getValue());
        }
        wrap(out, "sched:   ", stats);
        List<String> wl = new ArrayList<>();
        for (Map.Entry<String, Object> e : r.workloadMetrics.entrySet()) {
            if (e.getValue() instanceof List) { // one item per element (a file workload's kinds), each wrapped
                List<?> l = (List<?>) e.getValue();
                for (int i = 0; i < l.size(); i++) {
                    wl.add(e.getKey() + "[" + i + "]=" + format(l.get(i)));
                }
                continue;
            }
            wl.add(e.getKey() + "=" + format(e.getValue()));
        }
        wrap(out, "load:    ", wl);
        schbench(out, r.workloadMetrics);
        for (Object v : r.workloadMetrics.values()) {
            if (v instanceof Map) {
                schbench(out, (Map<?, ?>) v); // a part of mixed
            }
        }
    }

    /** schbench's own report, as schbench prints it, for metrics that have its figures. */
    static void schbench(PrintWriter out, Map<?, ?> m) {
        if (!(m.get("wakeup_latency_us") instanceof Map) || !(m.get("request_latency_us") instanceof Map)) {
            return;
        }
        double runtime = m.get("runtime_s") instanceof Number ? ((Number) m.get("runtime_s")).doubleValue() : 0;
        out.println();
        schbenchHistogram(out, "Wakeup", (Map<?, ?>) m.get("wakeup_latency_us"), runtime);
        schbenchHistogram(out, "Request", (Map<?, ?>) m.get("request_latency_us"), runtime);
        if (m.get("requests_per_sec") instanceof Number) {
            out.printf(Locale.ROOT, "average rps: %.2f%n", ((Number) m.get("requests_per_sec")).doubleValue());
        }
    }

    private static void schbenchHistogram(PrintWriter out, String what, Map<?, ?> h, double runtimeS) {
        out.printf(Locale.ROOT, "%s Latencies percentiles (usec) runtime %.0f (s) (%s total samples)%n", what,
                runtimeS, h.get("samples"));
        String[][] rows = {{"50.0th:", "p50"}, {"90.0th:", "p90"}, {"* 99.0th:", "p99"}, {"99.9th:", "p99.9"},
            {"max:", "max"}};
        for (String[] row : rows) {
            Object v = h.get(row[1]);
            long us = v instanceof Number ? Math.round(((Number) v).doubleValue()) : 0;
            out.printf(Locale.ROOT, "%11s %d%n", row[0], us);
        }
    }

    private static double pct(long part, long whole) {
        return whole <= 0 ? 0.0 : Math.min(100.0, 100.0 * part / whole);
    }

    private static String format(Object v) {
        if (v instanceof Double) {
            return String.format(Locale.ROOT, "%.3f", (Double) v);
        }
        if (v instanceof List) {
            List<String> parts = new ArrayList<>();
            for (Object o : (List<?>) v) {
                parts.add(format(o));
            }
            return "[" + String.join(" ", parts) + "]";
        }
        if (v instanceof Map) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                parts.add(e.getKey() + "=" + format(e.getValue()));
            }
            return "{" + String.join(" ", parts) + "}";
        }
        return String.valueOf(v);
    }

    private static void latency(PrintWriter out, String name, LatencySummary s) {
        if (s == null) {
            return;
        }
        out.printf("%-14s %10d %11s %11s %11s %11s%n", name, s.count, us(s.p50), us(s.p99), us(s.p999), us(s.max));
    }

    /** {@code items} after {@code label}, separated by two spaces, wrapped at {@value #WIDTH} columns. */
    private static void wrap(PrintWriter out, String label, List<String> items) {
        if (items.isEmpty()) {
            out.println(label + "-");
            return;
        }
        StringBuilder line = new StringBuilder(label);
        boolean first = true;
        for (String it : items) {
            if (!first && line.length() + 2 + it.length() > WIDTH) {
                out.println(line);
                line = new StringBuilder(" ".repeat(label.length()));
                first = true;
            }
            line.append(first ? "" : "  ").append(it);
            first = false;
        }
        out.println(line);
    }
}
