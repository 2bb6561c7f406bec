// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.KernelProfile;
import org.scxemu.harness.RunResult;
import org.scxemu.harness.RunSpec;
import org.scxemu.harness.Runner;
import org.scxemu.harness.workload.Pair;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.ScxOp;

/**
 * scx_pair on four threaded CPUs running the {@code pair} workload (three cgroups, RT bursts on
 * every CPU): with cpu_acquire/cpu_release the observer never sees siblings running ext tasks of
 * different cgroups; without them the siblings go on running ext tasks next to the RT task; as
 * written (the original's holes open) the observer does see pairing violations, so it can.
 */
class ScxPairTest {
    private static final long RUN_NS = 1_500_000_000L;

    private static PairCore.Options options(boolean cpuRelease, boolean asWritten) {
        PairCore.Options o = new PairCore.Options();
        o.nrCpuIds = 4;
        o.stride = 2;
        o.cpuRelease = cpuRelease;
        o.asWritten = asWritten;
        return o;
    }

    private static RunResult run(PairCore s, Pair.Params p) {
        RunSpec rs = new RunSpec("pair", Map.of(), Pair.NAME, 4, 1_000_000L, RUN_NS, 1, KernelProfile.byId("v7"));
        RunResult r = Runner.run(rs, s, new Pair(p), Runner.Listener.NONE);
        assertNull(r.bug, () -> "kernel BUG: " + r.bug);
        assertEquals("UNREG", r.exitKindName, () -> r.exitKindName + ": " + r.exitMsg);
        return r;
    }

    private static long metric(RunResult r, String key) {
        return (Long) r.workloadMetrics.get(key);
    }

    @SuppressWarnings("unchecked")
    private static long extMin(RunResult r) {
        return (Long) ((Map<String, Object>) r.workloadMetrics.get("ext")).get("run_ns_min");
    }

    private static String describe(RunResult r) {
        return "metrics " + r.workloadMetrics + ", stats " + r.schedulerStats;
    }

    /**
     * The guarantee: zero pairing violations under RT bursts, seen by the workload's observer
     * (both siblings' rq->curr under both rq locks). The feature is exercised: cpu_release and cpu_acquire run, every
     * release is counted as a preemption, and every ext task makes progress.
     */
    @Test
    void noPairingViolationsUnderRtBursts() {
        PairCore s = ScxPair.create(options(true, false));
        RunResult r = run(s, new Pair.Params());
        assertEquals(0L, metric(r, "pairing_violations"), () -> describe(r));
        assertTrue(metric(r, "pairing_samples") > 1000, () -> "too few samples: " + describe(r));
        assertTrue(metric(r, "rt_bursts") > 50, () -> describe(r));
        long releases = r.opCalls[ScxOp.CPU_RELEASE.ordinal()];
        assertTrue(releases > 50, "cpu_release ran " + releases + " times");
        assertTrue(r.opCalls[ScxOp.CPU_ACQUIRE.ordinal()] > 50, "cpu_acquire ran");
        assertEquals(releases, (long) r.schedulerStats.get("nr_preemptions"), "nr_preemptions vs cpu_release");
        assertTrue(r.kfuncCalls[Kfunc.KICK_CPU.ordinal()] > 0);
        assertEquals(r.opCalls[ScxOp.ENQUEUE.ordinal()], (long) r.schedulerStats.get("nr_total"));
        assertTrue(r.schedulerStats.get("nr_cgrp_next") > 10, "the pairs moved between cgroups");
        assertTrue(extMin(r) > 0, () -> "an ext task never ran: " + describe(r));
    }

    /**
     * Without cpu_acquire/cpu_release the preempted CPU keeps its active bit, so the sibling cannot
     * switch cgroups (no ext-vs-ext violation either), but it goes on running the pair's cgroup next
     * to the RT task, which cpu_release's SCX_KICK_PREEMPT | SCX_KICK_WAIT stops: many more samples
     * of an ext task beside a higher-class task.
     */
    @Test
    void withoutCpuReleaseTheSiblingKeepsRunningNextToTheRtTask() {
        RunResult on = run(ScxPair.create(options(true, false)), new Pair.Params());
        RunResult off = run(ScxPair.create(options(false, false)), new Pair.Params());
        assertTrue(off.opCalls[ScxOp.CPU_RELEASE.ordinal()] == 0 && off.opCalls[ScxOp.CPU_ACQUIRE.ordinal()] == 0);
        assertEquals(0L, (long) off.schedulerStats.get("nr_preemptions"));
        long onHc = metric(on, "higher_class_overlap_samples");
        long offHc = metric(off, "higher_class_overlap_samples");
        assertTrue(offHc > 3 * onHc, "higher-class overlap samples: with " + onHc + ", without " + offHc);
        assertEquals(0L, metric(off, "pairing_violations"), () -> describe(off));
    }

    /**
     * The counter detects violations: the original as written (SCX_DSQ_GLOBAL, the default
     * select_cpu's direct dispatch, no SCX_OPS_ENQ_LAST) lets siblings run different cgroups.
     */
    @Test
    void asWrittenTheObserverSeesViolations() {
        RunResult r = run(ScxPair.create(options(true, true)), new Pair.Params());
        assertTrue(metric(r, "pairing_violations") > 0, () -> describe(r));
        assertTrue(metric(r, "pairing_violation_samples") >= metric(r, "pairing_violations"));
    }

    /** scx_pair.c's pairing: CPU i with (i + stride) % n, each CPU exactly once. */
    @Test
    void pairingAndStatsLine() {
        assertTrue(PairCore.validStride(4, 2));
        assertTrue(PairCore.validStride(4, 1));
        assertFalse(PairCore.validStride(4, 3));
        assertFalse(PairCore.validStride(3, 1));
        assertFalse(PairCore.validStride(4, 4));
        PairCore s = ScxPair.create(options(true, false));
        assertEquals("Pairs: [0, 2] [1, 3] ", s.pairsLine());
        assertEquals(2, s.pairCpu(0));
        assertEquals(1, s.pairCpu(3));
        assertTrue(s instanceof ScxPair);
        assertTrue(ScxPair.create(options(false, false)) instanceof ScxPairNoCpuRelease);
        assertThrows(IllegalArgumentException.class, () -> new ScxPair(options(false, false)));
        String line = s.statsLine();
        assertTrue(line.matches("(?s)\\[SEQ 0]\n total: *\\d+ dispatch: *\\d+   missing: *\\d+\n"
                + " kicks: *\\d+ preemptions: *\\d+\n   exp: *\\d+ exp_wait: *\\d+ exp_empty: *\\d+\n"
                + "cgnext: *\\d+   cgcoll: *\\d+   cgempty: *\\d+"), line);
        assertTrue(s.statsLine().startsWith("[SEQ 1]"));
    }
}
