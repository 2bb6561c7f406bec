// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/** scx_bpf_cpu_rq(): the CPU's rq for reading, from any op; counted; a bad CPU ejects. */
class CpuRqKfuncTest {

    @Test
    void returnsTheCpusRqFromEnqueueAndIsCounted() {
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            List<Rq> seen = new ArrayList<>();
            List<Integer> running = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "cpu_rq";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu; // no direct dispatch: every wakeup reaches ops.enqueue()
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    Rq rq = scx_bpf_cpu_rq(scx_bpf_task_cpu(p));
                    seen.add(rq);
                    // enqueue_task_scx() counts the task before ops.enqueue(): at least this one
                    running.add(rq.nrRunning());
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enqFlags);
                }
            }));
            Task p = s.forkPinned("t", 1);
            s.runFor(2_000_000L, 500_000L);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertTrue(!seen.isEmpty(), "ops.enqueue() ran");
            for (Rq rq : seen) {
                assertSame(s.rq(1), rq, "the rq of the task's CPU");
                assertEquals(1, rq.cpu);
            }
            for (int n : running) {
                assertTrue(n >= 1, "nr_running counts the task being enqueued: " + n);
            }
            assertEquals(seen.size(), s.kfuncCalls(Kfunc.CPU_RQ), "counted in kfunc_calls");
            assertTrue(p.sumExecRuntime() > 0);
        }
    }

    @Test
    void anInvalidCpuEjectsWithOpsCpuValidsMessage() {
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            List<Rq> got = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "cpu_rq_bad";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    got.add(scx_bpf_cpu_rq(4));
                    return prevCpu;
                }
            }));
            s.fork("t");
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("invalid CPU 4", ei.msg());
            assertEquals(1, got.size());
            assertNull(got.get(0), "NULL for a bad CPU");
            assertEquals(1, s.kfuncCalls(Kfunc.CPU_RQ));
        }
    }
}
