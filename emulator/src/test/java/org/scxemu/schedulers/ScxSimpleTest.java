// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.schedulers.SchedTestSupport.MS;
import static org.scxemu.schedulers.SchedTestSupport.cpuBound;
import static org.scxemu.schedulers.SchedTestSupport.forkPinned;
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
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.ScxOp;
import org.scxemu.kernel.Task;

/**
 * scx_simple on four threaded CPUs: every task runs and keeps running, the counters agree with the
 * kernel's op and kfunc counts, unloading ends in UNREG, and vtime mode favours the heavier task.
 */
class ScxSimpleTest {

    /**
     * A mixed load (CPU-bound and sleep/wake tasks, more than CPUs) in both modes: no task is
     * lost or starves; after unload, {@code global} equals the ops.enqueue() calls,
     * {@code local} is at most the ops.select_cpu() calls, and since each counter increment is
     * followed by exactly one dispatch kfunc, {@code local + global} equals the dispatch kfunc
     * calls (all of them plain dispatches in FIFO mode, {@code global} of them vtime dispatches in
     * vtime mode).
     */
    @ParameterizedTest(name = "fifo={0}")
    @ValueSource(booleans = {false, true})
    void runsEveryTaskAndCountsConsistently(boolean fifo) {
        ScxSimple s = new ScxSimple(fifo);
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
            assertEquals("UNREG", s.exitInfo().kindName());
            assertNull(m.kernel().bug());

            Map<String, Long> st = s.stats();
            long local = st.get("local");
            long global = st.get("global");
            assertTrue(global > 0, "nothing went through ops.enqueue()");
            assertEquals(op(m, ScxOp.ENQUEUE), global, "global vs ops.enqueue() calls");
            assertTrue(local <= op(m, ScxOp.SELECT_CPU), "local > ops.select_cpu() calls");
            assertEquals(local + global, kf(m, Kfunc.DISPATCH) + kf(m, Kfunc.DISPATCH_VTIME),
                    "local + global vs dispatch kfunc calls");
            assertEquals(fifo ? 0 : global, kf(m, Kfunc.DISPATCH_VTIME), "vtime dispatches");
            assertEquals("local=" + local + " global=" + global, s.statsLine());
        }
    }

    /** On a lightly loaded machine most wakeups find an idle CPU: {@code local} counts them. */
    @Test
    void idleWakeupsAreDispatchedLocally() {
        ScxSimple s = new ScxSimple(false);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(s));
            m.start();
            List<Task> tasks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                tasks.add(SchedTestSupport.fork(m, "light" + i, 0, SchedTestSupport.sleeper(200_000L, 2 * MS)));
            }
            runAndAssertProgress(m, tasks, 300 * MS);
            m.stop();
            m.unload();
            assertTrue(s.stats().get("local") > 0, "no wakeup found an idle CPU: " + s.statsLine());
            assertEquals("UNREG", m.ext().exitInfo().kindName());
        }
    }

    /**
     * Two nice -5 (weight 305) and two nice 5 (weight 33) CPU-bound tasks pinned to one CPU: in
     * vtime mode each heavy task gets several times the CPU of each light one (about 9x); in FIFO
     * mode, for contrast, they share it round-robin. (Two tasks of each: ops.dispatch() runs before
     * the previous task is re-enqueued, so a lone heavy task could never run twice in a row.)
     */
    @ParameterizedTest(name = "fifo={0}")
    @ValueSource(booleans = {false, true})
    void vtimeOrdersByWeightOnOneCpu(boolean fifo) {
        ScxSimple s = new ScxSimple(fifo);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(s));
            m.start();
            List<Task> heavy = new ArrayList<>();
            List<Task> light = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                heavy.add(forkPinned(m, "heavy" + i, -5, 1, Behavior.cpuBound(500_000L)));
                light.add(forkPinned(m, "light" + i, 5, 1, Behavior.cpuBound(500_000L)));
            }
            m.runFor(1200 * MS);
            m.stop();
            long minHeavy = Long.MAX_VALUE;
            long maxHeavy = 0;
            long minLight = Long.MAX_VALUE;
            long maxLight = 0;
            for (Task t : heavy) {
                minHeavy = Math.min(minHeavy, t.sumExecRuntime());
                maxHeavy = Math.max(maxHeavy, t.sumExecRuntime());
            }
            for (Task t : light) {
                minLight = Math.min(minLight, t.sumExecRuntime());
                maxLight = Math.max(maxLight, t.sumExecRuntime());
            }
            String runtimes = "heavy " + minHeavy / MS + ".." + maxHeavy / MS + " ms, light " + minLight / MS + ".."
                    + maxLight / MS + " ms";
            System.out.println("scx_simple fifo=" + fifo + " on one CPU: " + runtimes + "; " + s.statsLine());
            assertTrue(minLight > 0, "a light task never ran: " + runtimes);
            if (fifo) {
                assertTrue(maxHeavy < 2 * minLight, "FIFO mode should not favour weight: " + runtimes);
            } else {
                assertTrue(minHeavy > 2 * maxLight, "vtime mode should favour weight: " + runtimes);
            }
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            assertNull(m.kernel().bug());
        }
    }
}
