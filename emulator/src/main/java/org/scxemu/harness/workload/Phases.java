// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.scxemu.kernel.Task;

/** Helpers shared by the built-in workloads: seeded phase lengths and per-task runtime figures. */
final class Phases {
    private Phases() {
    }

    /** A uniformly distributed length in {@code [loNs, hiNs]}. */
    static long uniform(SplittableRandom rnd, long loNs, long hiNs) {
        return loNs >= hiNs ? loNs : rnd.nextLong(loNs, hiNs + 1);
    }

    static void checkRange(String what, long lo, long hi) {
        if (lo <= 0 || hi < lo) {
            throw new IllegalArgumentException(what + ": need 0 < lo <= hi, got " + lo + ".." + hi);
        }
    }

    /**
     * Runtime figures over {@code tasks}: count, total, min, max and Jain's fairness index
     * ({@code (sum x)^2 / (n * sum x^2)}, 1.0 when every task got the same CPU time). Call after
     * the CPU threads have stopped: {@link Task#sumExecRuntime} is then stable.
     */
    static Map<String, Object> runtimes(List<Task> tasks) {
        Map<String, Object> m = new LinkedHashMap<>();
        long total = 0;
        long min = Long.MAX_VALUE;
        long max = 0;
        double sumSq = 0;
        for (Task t : tasks) {
            long ns = t.sumExecRuntime();
            total += ns;
            min = Math.min(min, ns);
            max = Math.max(max, ns);
            sumSq += (double) ns * ns;
        }
        int n = tasks.size();
        m.put("tasks", (long) n);
        m.put("run_ns_total", total);
        m.put("run_ns_min", n == 0 ? 0L : min);
        m.put("run_ns_max", max);
        m.put("fairness_jain", n == 0 || sumSq == 0 ? 0.0 : ((double) total * total) / (n * sumSq));
        return m;
    }
}
