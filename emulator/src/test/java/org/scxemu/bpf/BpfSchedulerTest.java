// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.bpf.BpfFixtures.MS;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.ScxOp;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;

/**
 * The fixture schedulers, compiled from the project's own C, run on four threaded CPUs: every task
 * keeps running, the BPF-side counters agree with the kernel's op and kfunc counts, and unloading
 * ends in UNREG with the object's own exit record filled by its ops.exit().
 */
class BpfSchedulerTest {

    private static long op(Machine m, ScxOp op) {
        return m.kernel().opCalls()[op.ordinal()];
    }

    private static long kf(Machine m, Kfunc k) {
        return m.kernel().kfuncCalls()[k.ordinal()];
    }

    @Test
    void fifoRunsEveryTaskAndCountsMatchTheKernel() throws Exception {
        SchedExtOps s = BpfFixtures.load("fifo", 4);
        assertEquals("fifo", s.name());
        assertEquals(List.of("select_cpu", "enqueue", "init", "exit"), BpfScheduler.ops(s));
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(s));
            m.start();
            List<Task> tasks = BpfFixtures.mixed(m, 6, 6);
            BpfFixtures.runAndAssertProgress(m, tasks, 300 * MS);
            m.stop();
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            // each enqueue adds one to nr_enqueued with an atomic, then dispatches once
            assertEquals(op(m, ScxOp.ENQUEUE), BpfScheduler.global(s, "nr_enqueued"));
            assertTrue(op(m, ScxOp.SELECT_CPU) > 0);
            assertEquals(op(m, ScxOp.SELECT_CPU), kf(m, Kfunc.SELECT_CPU_DFL));
            String stats = s.statsLine();
            assertTrue(stats.startsWith("fifo:"), stats);
            String report = BpfScheduler.exitReport(s);
            assertTrue(report != null && report.equals("EXIT: unregistered from user space"), "" + report);
        }
    }

    @Test
    void vtimeRunsEveryTaskThroughItsUserDsq() throws Exception {
        SchedExtOps s = BpfFixtures.load("vtime", 4);
        assertEquals(5000, s.timeoutMs());
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(s));
            m.start();
            List<Task> tasks = BpfFixtures.mixed(m, 6, 6);
            BpfFixtures.runAndAssertProgress(m, tasks, 300 * MS);
            m.stop();
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            assertEquals(op(m, ScxOp.ENQUEUE), BpfScheduler.global(s, "nr_dispatched"));
            assertEquals(op(m, ScxOp.STOPPING), BpfScheduler.global(s, "nr_stopped"));
            assertTrue(BpfScheduler.global(s, "nr_consumed") > 0);
            for (Task t : tasks) {
                assertTrue(t.scx.dsqVtime > 0, t + " vtime never advanced");
            }
        }
    }
}
