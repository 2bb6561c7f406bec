// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.controlled;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adds a controlled run's hand-overs to a trace built by
 * {@link org.scxemu.harness.trace.TraceRecorder#toTraceJson}: a process "controller" with one
 * track per participant ({@code cpu-N}, the watchdog, the ops helper, the harness) and, on the
 * track of the participant that got the machine, one instant event per kept hand-over, named by
 * the point where the previous runner handed over, with {@code step}, {@code from}, {@code point}
 * and {@code to} as arguments. In the JSON file each event is one block of lines, in step order,
 * so the last ones show how the run reached its end. {@code otherData.controlled} gets the
 * summary and how many hand-overs were kept or dropped (the oldest are dropped first).
 *
 * <p>Called after the run, on the thread that stopped the controller.
 */
public final class HandOverTrace {
    /** The trace's process id for the controller's tracks (0 is "CPUs", 1 "tasks"). */
    static final long PID = 2;

    private HandOverTrace() {
    }

    /**
     * @param root    the trace (its {@code traceEvents} list is appended to)
     * @param c       the stopped controller
     * @param fromNs  the trace's time zero, as given to {@code toTraceJson}
     * @param summary the {@code controlled} section of the JSON summary
     */
    public static void addTo(Map<String, Object> root, Controller c, long fromNs, Map<String, Object> summary) {
        addTo(root, c, fromNs, summary, Long.MAX_VALUE);
    }

    /**
     * As {@link #addTo(Map, Controller, long, Map)}, with the hand-overs up to step
     * {@code uptoStep} only (a stress run's trace ends at the violation, not at the drain after it).
     */
    @SuppressWarnings("unchecked")
    public static void addTo(Map<String, Object> root, Controller c, long fromNs, Map<String, Object> summary,
            long uptoStep) {
        List<Object> ev = (List<Object>) root.get("traceEvents");
        ev.add(meta("process_name", -1, "controller"));
        for (int id = 0; id < c.participants(); id++) {
            ev.add(meta("thread_name", id, c.participantName(id)));
        }
        HandOverLog log = c.log();
        int k = 0;
        for (; k < log.size() && log.step(k) <= uptoStep; k++) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", log.pointName(k));
            e.put("cat", "handover");
            e.put("ph", "i");
            e.put("pid", PID);
            e.put("tid", (long) log.to(k));
            e.put("ts", (log.timeNs(k) - fromNs) / 1000.0);
            e.put("s", "t");
            Map<String, Object> args = new LinkedHashMap<>();
            args.put("step", log.step(k));
            args.put("from", log.fromName(k));
            args.put("point", log.pointName(k));
            args.put("to", log.toName(k));
            e.put("args", args);
            ev.add(e);
        }
        Map<String, Object> other = (Map<String, Object>) root.get("otherData");
        Map<String, Object> s = new LinkedHashMap<>(summary);
        s.put("handovers_kept", (long) k);
        s.put("handovers_dropped", log.dropped());
        other.put("controlled", s);
    }

    private static Map<String, Object> meta(String what, long tid, String name) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", what);
        m.put("ph", "M");
        m.put("pid", PID);
        if (tid >= 0) {
            m.put("tid", tid);
        }
        m.put("args", Map.of("name", name));
        return m;
    }
}
