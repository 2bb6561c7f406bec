// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.stress;

import static org.scxemu.scx.Scx.SCX_DSQ_GLOBAL;
import static org.scxemu.scx.Scx.SCX_ENQ_REENQ;
import static org.scxemu.scx.Scx.SCX_SLICE_DFL;
import static org.scxemu.scx.Scx.bpf_task_from_pid;
import static org.scxemu.scx.Scx.bpf_task_release;
import static org.scxemu.scx.Scx.scx_bpf_consume;
import static org.scxemu.scx.Scx.scx_bpf_create_dsq;
import static org.scxemu.scx.Scx.scx_bpf_dispatch;
import static org.scxemu.scx.Scx.scx_bpf_reenqueue_local;

import java.util.concurrent.atomic.AtomicInteger;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;

/**
 * Schedulers with one planted bug each, for the invariant checker's tests. Both are a global FIFO
 * on one user DSQ with the seed's cpu_release re-enqueue, as scx_qmap has; each breaks one rule the
 * kernel itself cannot see.
 */
final class PlantedBugs {
    static final long FIFO_DSQ = 7;

    private PlantedBugs() {
    }

    /** A global FIFO with the seed's cpu_release re-enqueue: correct. */
    static class Fifo implements SchedExtOps {
        @Override
        public String name() {
            return "planted_fifo";
        }

        @Override
        public int init() {
            return scx_bpf_create_dsq(FIFO_DSQ, -1);
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            scx_bpf_dispatch(p, FIFO_DSQ, SCX_SLICE_DFL, enqFlags);
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            scx_bpf_consume(FIFO_DSQ);
        }

        @Override
        public void cpuRelease(int cpu, CpuReleaseArgs args) {
            scx_bpf_reenqueue_local();
        }
    }

    /**
     * Drops the first task that scx_bpf_reenqueue_local() hands back in ops.enqueue(): it keeps
     * the task (ops state QUEUED: the scheduler owns it) and never dispatches it.
     */
    static final class DropsInCpuRelease extends Fifo {
        final AtomicInteger droppedPid = new AtomicInteger(-1);

        @Override
        public String name() {
            return "planted_drop_reenq";
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            if ((enqFlags & SCX_ENQ_REENQ) != 0 && droppedPid.compareAndSet(-1, p.pid)) {
                return; // the bug: owned and forgotten
            }
            super.enqueue(p, enqFlags);
        }
    }

    /**
     * Dispatches, once, a task it was never given: the first SCHED_FIFO task it finds by pid (a
     * task of the rt class, which never goes through ops.enqueue()).
     */
    static final class DispatchesUnowned extends Fifo {
        final AtomicInteger victimPid = new AtomicInteger(-1);

        @Override
        public String name() {
            return "planted_dispatch_unowned";
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            if (victimPid.get() < 0) {
                for (int pid = 1; pid < 256; pid++) {
                    Task t = bpf_task_from_pid(pid);
                    if (t == null) {
                        continue;
                    }
                    boolean rt = t.policy() == Task.SCHED_FIFO;
                    if (rt && victimPid.compareAndSet(-1, pid)) {
                        scx_bpf_dispatch(t, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0); // the bug
                    }
                    bpf_task_release(t);
                    if (rt) {
                        break;
                    }
                }
            }
            super.dispatch(cpu, prev);
        }
    }
}
