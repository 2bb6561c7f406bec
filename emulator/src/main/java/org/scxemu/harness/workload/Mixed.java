// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.scxemu.kernel.Kernel;

/**
 * {@code mixed}: all the built-in shapes at once, with RT bursts: {@code rt-preempt} with one busy
 * ext task per CPU (its SCHED_FIFO, DL and stop bursters included, so {@code cpu_release} happens),
 * {@code sleep-wake} with one task per CPU, one {@code hackbench} group of 4 senders x 4 receivers
 * and a {@code schbench} with one message thread and one worker per CPU. Each part gets its own
 * seed split from the run's; its figures are reported under its name.
 *
 * <p>Threads: as its parts'.
 */
public final class Mixed implements Workload {
    public static final String NAME = "mixed";

    private final Map<String, Workload> parts = new LinkedHashMap<>();

    public Mixed() {
        RtPreempt.Params rt = new RtPreempt.Params();
        rt.extPerCpu = 1;
        parts.put("rt_preempt", new RtPreempt(rt));
        parts.put("sleep_wake", new SleepWake(1, 100_000L, 2_000_000L, 100_000L, 5_000_000L));
        parts.put("hackbench", new Hackbench(1, 4, 50, 2_000L, 2_000L));
        parts.put("schbench", new Schbench(1, 1, 50_000L, 150_000L));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "all at once with RT bursts: rt-preempt (1 ext task per CPU + FIFO/DL/stop bursts), sleep-wake"
                + " (1 per CPU), a hackbench group (4x4) and schbench (1 message thread, 1 worker per CPU)";
    }

    @Override
    public void start(Kernel kernel, int cpus, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        for (Workload w : parts.values()) {
            w.start(kernel, cpus, root.nextLong());
        }
    }

    @Override
    public Map<String, Object> report() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<String, Workload> e : parts.entrySet()) {
            m.put(e.getKey(), e.getValue().report());
        }
        return m;
    }
}
