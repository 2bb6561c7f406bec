// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.SchedClass;
import org.scxemu.kernel.Task;
import org.scxemu.schedulers.ScxSimple;

/** The built-in workloads: registry, seeding, and that their tasks run as described. */
class WorkloadTest {
    @Test
    void registryMakesFreshNamedInstances() {
        assertEquals(List.of("cpu-bound", "sleep-wake", "rt-preempt", "hackbench", "schbench", "mixed", "pair"),
                Workloads.names());
        for (String name : Workloads.names()) {
            Workload a = Workloads.create(name);
            Workload b = Workloads.create(name);
            assertNotNull(a);
            assertTrue(a != b, "a fresh instance per run");
            assertEquals(name, a.name());
            assertTrue(!a.description().isBlank() && !a.description().contains("\n"), "one-line description");
        }
        assertNull(Workloads.create("nope"));
        assertEquals("cpu-bound", Workloads.DEFAULT);
    }

    @Test
    void rtCpusAreASeededChoiceOfDistinctCpus() {
        for (long seed = 0; seed < 50; seed++) {
            int[] a = RtPreempt.chooseCpus(new SplittableRandom(seed), 8, 4);
            int[] b = RtPreempt.chooseCpus(new SplittableRandom(seed), 8, 4);
            assertArrayEquals(a, b, "same seed, same CPUs");
            for (int i = 0; i < a.length; i++) {
                assertTrue(a[i] >= 0 && a[i] < 8);
                assertTrue(i == 0 || a[i] > a[i - 1], "distinct and sorted");
            }
        }
        boolean differs = false;
        for (long seed = 1; seed < 20 && !differs; seed++) {
            differs = !java.util.Arrays.equals(RtPreempt.chooseCpus(new SplittableRandom(0), 8, 4),
                    RtPreempt.chooseCpus(new SplittableRandom(seed), 8, 4));
        }
        assertTrue(differs, "the seed chooses");
    }

    private static Map<String, Object> runOnSimple(Workload w, int cpus, long ms) {
        try (Machine m = Machine.threaded(cpus)) {
            assertEquals(0, m.load(new ScxSimple(false)));
            m.start();
            w.start(m.kernel(), cpus, 42);
            m.runFor(ms * 1_000_000L);
            assertNull(m.kernel().bug());
            assertEquals(0, m.ext().exitKind(), "still running: " + m.ext().exitInfo().msg());
            m.stop();
            m.unload();
            return w.report();
        }
    }

    @Test
    void cpuBoundForksTwoTasksPerCpuThatAllRun() {
        Map<String, Object> r = runOnSimple(new CpuBound(), 2, 300);
        assertEquals(4L, r.get("tasks"));
        assertTrue((Long) r.get("run_ns_min") > 0, "every task ran: " + r);
        assertTrue((Double) r.get("fairness_jain") > 0.5, r.toString());
    }

    @Test
    void sleepWakeTasksSleepAndWake() {
        Map<String, Object> r = runOnSimple(new SleepWake(), 2, 300);
        assertEquals(6L, r.get("tasks"));
        assertTrue((Long) r.get("sleeps") > 6, "many sleeps: " + r);
        assertTrue((Long) r.get("run_ns_min") > 0, r.toString());
    }

    @Test
    void rtPreemptRunsHigherClassesOnTheirPinnedCpus() {
        RtPreempt w = new RtPreempt();
        int cpus = 4;
        try (Machine m = Machine.threaded(cpus)) {
            assertEquals(0, m.load(new ScxSimple(false)));
            m.start();
            w.start(m.kernel(), cpus, 42);
            int ext = 0;
            int rt = 0;
            for (Task t : m.kernel().tasks()) {
                if (t.schedClass() == SchedClass.EXT) {
                    ext++;
                } else if (t.schedClass() == SchedClass.RT) {
                    rt++;
                    assertEquals(1, t.nrCpusAllowed(), "RT tasks are pinned");
                }
            }
            assertEquals(3 * cpus, ext, "3 ext tasks per CPU");
            assertEquals(cpus / 2, rt, "RT tasks on half of the CPUs");
            m.runFor(500_000_000L);
            assertNull(m.kernel().bug());
            m.stop();
            m.unload();
        }
        Map<String, Object> r = w.report();
        assertEquals(2, ((List<?>) r.get("rt_cpus")).size());
        assertTrue((Long) r.get("rt_bursts") > 0, r.toString());
        assertTrue((Long) r.get("rt_run_ns") > 0, r.toString());
        assertTrue((Long) r.get("dl_bursts") > 0, r.toString());
        assertTrue((Long) r.get("stop_bursts") > 0, r.toString());
        RtPreempt.Params oneCpu = new RtPreempt.Params();
        oneCpu.dlTask = false;
        oneCpu.stopTask = false;
        assertTrue(new RtPreempt(oneCpu).description().contains("SCHED_FIFO"));
    }

    @Test
    void hackbenchDeliversEveryMessageOnceAndExits() {
        Map<String, Object> r = runOnSimple(new Hackbench(2, 3, 10, 2_000L, 2_000L), 2, 400);
        assertEquals(2L * 3 * 3 * 10, r.get("messages_expected"));
        assertEquals(Boolean.TRUE, r.get("completed"), r.toString());
        assertEquals(r.get("messages_expected"), r.get("messages_sent"));
        assertEquals(r.get("messages_expected"), r.get("messages_received"));
        assertTrue((Long) r.get("total_time_ns") > 0, r.toString());
    }

    @Test
    void schbenchCountsEveryRequestOnce() {
        Map<String, Object> r = runOnSimple(new Schbench(1, 2, 50_000L, 100_000L), 2, 300);
        @SuppressWarnings("unchecked")
        Map<String, Object> req = (Map<String, Object>) r.get("request_latency_us");
        @SuppressWarnings("unchecked")
        Map<String, Object> wake = (Map<String, Object>) r.get("wakeup_latency_us");
        long requests = (Long) r.get("requests");
        assertTrue(requests > 0, r.toString());
        assertEquals(requests, req.get("samples"));
        long w = (Long) wake.get("samples");
        assertTrue(w >= requests && w <= requests + (Long) r.get("workers"), r.toString());
        String[] order = {"p50", "p90", "p99", "p99.9", "max"};
        for (int i = 1; i < order.length; i++) {
            assertTrue((Double) req.get(order[i - 1]) <= (Double) req.get(order[i]), order[i] + ": " + r);
            assertTrue((Double) wake.get(order[i - 1]) <= (Double) wake.get(order[i]), order[i] + ": " + r);
        }
    }
}
