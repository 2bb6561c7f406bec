// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.bpf.BpfFixtures.MS;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.ScxOp;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;

/**
 * The queue fixture: pids through a QUEUE map, tasks found again with bpf_task_from_pid(), task
 * storage, a spin-locked counter, a hash map, bpf_iter_num; and the seed's path: RT tasks take
 * CPUs, cpu_release calls scx_bpf_reenqueue_local() and the re-enqueued tasks come back through
 * ops.enqueue() with SCX_ENQ_REENQ.
 */
class BpfQueueTest {
    @Test
    void queueMapSchedulerWithCpuReleaseReenqueues() throws Exception {
        SchedExtOps s = BpfFixtures.load("queue", 4);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(s));
            m.start();
            List<Task> tasks = new ArrayList<>(BpfFixtures.mixed(m, 8, 4));
            for (int i = 0; i < 3; i++) {
                m.kernel().fork(new Kernel.TaskSpec().comm("rt" + i).policy(Task.SCHED_FIFO)
                        .behavior(rtBurst()));
            }
            BpfFixtures.runAndAssertProgress(m, tasks, 400 * MS);
            m.stop();
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            long enq = m.kernel().opCalls()[ScxOp.ENQUEUE.ordinal()];
            long reenqCalls = m.kernel().opCalls()[ScxOp.CPU_RELEASE.ordinal()];
            assertTrue(reenqCalls > 0, "RT tasks never took a CPU from SCX");
            assertEquals(reenqCalls, BpfScheduler.global(s, "nr_reenq_calls"));
            assertEquals(reenqCalls, m.kernel().kfuncCalls()[Kfunc.REENQUEUE_LOCAL.ordinal()]);
            assertEquals(m.kernel().reenqueuedTasks(), BpfScheduler.global(s, "nr_reenqueued"));
            assertEquals(enq, BpfScheduler.global(s, "nr_enqueued") + BpfScheduler.global(s, "nr_reenqueued")
                    + BpfScheduler.global(s, "nr_lost"));
            assertTrue(BpfScheduler.global(s, "nr_dispatched") > 0);
            // the counter under bpf_spin_lock lost no update although four CPUs raced on it
            BpfOps b = (BpfOps) s;
            BpfMap.ArrayMap locked = (BpfMap.ArrayMap) b.obj.maps.get("locked");
            assertEquals(enq, b.vm.mem.loadBytes(locked.values[0], 8, 8));
            assertEquals(0, b.vm.mem.loadBytes(locked.values[0], 0, 4), "lock left held");
        }
    }

    /** An RT task: 200 us bursts every 2 ms. */
    private static Behavior rtBurst() {
        boolean[] runNext = {true};
        return (self, step, now) -> {
            if (runNext[0]) {
                step.run(200_000L);
            } else {
                step.sleep(2_000_000L);
            }
            runNext[0] = !runNext[0];
        };
    }
}
