// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.schedulers.SchedTestSupport.MS;
import static org.scxemu.schedulers.SchedTestSupport.cpuBound;
import static org.scxemu.schedulers.SchedTestSupport.kf;
import static org.scxemu.schedulers.SchedTestSupport.op;
import static org.scxemu.schedulers.SchedTestSupport.runAndAssertProgress;
import static org.scxemu.schedulers.SchedTestSupport.sleepers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.ScxOp;
import org.scxemu.kernel.Task;

/**
 * scx_central on four threaded CPUs: CPU-bound and sleep/wake tasks all run and keep running with
 * every decision made on the central CPU, the 1 ms timer fires and preempts, per-CPU kthreads go
 * local, the counters agree with the kernel's op counts, and unloading ends in UNREG.
 */
class ScxCentralTest {

    private static ScxCentral central(int cpus, int centralCpu, long sliceNs) {
        ScxCentral.Options o = new ScxCentral.Options();
        o.nrCpuIds = cpus;
        o.centralCpu = centralCpu;
        o.sliceNs = sliceNs;
        return new ScxCentral(o);
    }

    /**
     * Six CPU-bound and six sleep/wake tasks on four CPUs, with the central CPU 0 and then 2 (where
     * the timer is started by the central CPU's first dispatch): no task is lost or starves;
     * {@code nr_total} equals the ops.enqueue() calls, every pid pushed was popped or is still
     * queued, the timer ran on the central CPU (it errors out anywhere else) and, since the
     * CPU-bound tasks never give up their infinite slices, its kicks are what keeps them all
     * running.
     */
    @ParameterizedTest(name = "central cpu {0}")
    @ValueSource(ints = {0, 2})
    void runsEveryTaskFromTheCentralCpu(int centralCpu) {
        ScxCentral s = central(4, centralCpu, 5 * MS);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(s));
            m.start();
            List<Task> tasks = new ArrayList<>();
            tasks.addAll(cpuBound(m, "hog", 6));
            tasks.addAll(sleepers(m, "sleeper", 6));

            runAndAssertProgress(m, tasks, 400 * MS);

            m.stop();
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            assertNotNull(s.exitInfo(), "ops.exit() did not record the exit");
            assertNull(m.kernel().bug());

            Map<String, Long> st = s.stats();
            assertEquals(op(m, ScxOp.ENQUEUE), st.get("nr_total"), "nr_total vs ops.enqueue() calls");
            assertEquals(0L, st.get("nr_locals"), "no kthreads here");
            assertEquals(0L, st.get("nr_overflows"));
            assertEquals(0L, st.get("nr_mismatches"), "every task may run anywhere");
            assertTrue(st.get("nr_timers") > 100, "the 1 ms timer barely ran: " + st);
            assertTrue(st.get("nr_dispatches") > 0, "the central CPU never dispatched");
            // every dispatch kfunc call is a popped pid sent to a local DSQ (no fallback here)
            assertTrue(kf(m, Kfunc.DISPATCH) <= st.get("nr_total"), "more dispatches than enqueues");
            assertTrue(kf(m, Kfunc.KICK_CPU) > 0, "nobody kicked");
            assertTrue(op(m, ScxOp.SELECT_CPU) > 0, "no wakeup went through select_cpu");
            String line = s.statsLine();
            assertTrue(line.matches("(?s)\\[SEQ \\d+]\ntotal   : *\\d+    local: *\\d+   queued: *\\d+  lost: *\\d+\n"
                    + "timer   : *\\d+ dispatch: *\\d+ mismatch: *\\d+ retry: *\\d+\noverflow: *\\d+"), line);
        }
    }

    /**
     * Tickless: with four CPU-bound tasks per CPU and a slice of 2 ms, tasks only change when the
     * timer kicks a CPU whose task ran past the slice; over 400 ms each CPU switches many times.
     */
    @Test
    void timerPreemptsTasksThatRanPastTheSlice() {
        ScxCentral s = central(4, 0, 2 * MS);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(s));
            m.start();
            List<Task> tasks = cpuBound(m, "hog", 16);
            runAndAssertProgress(m, tasks, 300 * MS);
            m.stop();
            m.unload();
            for (int cpu = 1; cpu < 4; cpu++) {
                long sw = m.kernel().rq(cpu).nrSwitches();
                assertTrue(sw > 20, "CPU " + cpu + " switched only " + sw + " times in 600 ms");
            }
            assertEquals("UNREG", m.ext().exitInfo().kindName());
        }
    }

    /** A per-CPU kthread is dispatched straight to its CPU's local DSQ with SCX_ENQ_PREEMPT. */
    @Test
    void perCpuKthreadsGoLocal() {
        ScxCentral s = central(4, 0, 5 * MS);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(s));
            m.start();
            List<Task> tasks = cpuBound(m, "hog", 6);
            Task kt = m.kernel().fork(new Kernel.TaskSpec().comm("ksoftirqd/3").kthread().allowed(CpuMask.of(3))
                    .cpu(3).behavior(SchedTestSupport.sleeper(100_000L, 2 * MS)));
            assertNotNull(kt);
            tasks.add(kt);
            runAndAssertProgress(m, tasks, 300 * MS);
            m.stop();
            m.unload();
            assertTrue(s.stats().get("nr_locals") > 10, "kthread wakeups did not go local: " + s.stats());
            assertEquals("UNREG", m.ext().exitInfo().kindName());
        }
    }

    /** Tasks that exit leave no pids behind: lost pids are skipped, nothing else breaks. */
    @Test
    void shortLivedTasks() {
        ScxCentral s = central(4, 0, 5 * MS);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(s));
            m.start();
            List<Task> keep = cpuBound(m, "hog", 4);
            for (int i = 0; i < 40; i++) {
                SchedTestSupport.fork(m, "short" + i, 0, SchedTestSupport.shortLived(200_000L, 3));
            }
            runAndAssertProgress(m, keep, 300 * MS);
            m.stop();
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            assertNull(m.kernel().bug());
            assertTrue(s.stats().get("nr_total") >= 40);
        }
    }
}
