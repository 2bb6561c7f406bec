// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.scxemu.harness.Machine;
import org.scxemu.scx.SchedExtOps;

/**
 * A deterministic machine for tests: CPUs stepped by hand on a manual clock, the helper's work
 * (error dump, disable) run only when asked. Lives in {@code org.scxemu.kernel} so tests can look
 * at package-private state.
 */
final class Stepped implements AutoCloseable {
    final Clock.Manual clock = new Clock.Manual();
    final Machine m;
    final Kernel k;
    final Ext ext;

    Stepped(int cpus) {
        this(cpus, CoreProfile.V7);
    }

    Stepped(int cpus, CoreProfile profile) {
        m = Machine.stepped(cpus, clock, profile);
        k = m.kernel();
        ext = m.ext();
    }

    int load(SchedExtOps ops) {
        return m.load(ops);
    }

    Rq rq(int cpu) {
        return k.rq(cpu);
    }

    Task fork(String comm) {
        return k.fork(new Kernel.TaskSpec().comm(comm).behavior(Behavior.cpuBound(1_000_000L)));
    }

    Task fork(Kernel.TaskSpec spec) {
        return k.fork(spec);
    }

    /** A cpu-bound task pinned to {@code cpu}. */
    Task forkPinned(String comm, int cpu) {
        return k.fork(new Kernel.TaskSpec().comm(comm).allowed(CpuMask.of(cpu)).cpu(cpu)
                .behavior(Behavior.cpuBound(1_000_000L)));
    }

    /** A task of {@code policy} (or the stopper when policy is -1) pinned to {@code cpu}. */
    Task forkClass(String comm, int policy, int cpu, Behavior b) {
        Kernel.TaskSpec s = new Kernel.TaskSpec().comm(comm).allowed(CpuMask.of(cpu)).cpu(cpu).behavior(b);
        if (policy < 0) {
            s.stopper();
        } else {
            s.policy(policy);
        }
        return k.fork(s);
    }

    int step(int cpu) {
        return m.step(cpu);
    }

    int settle() {
        return m.settle(200);
    }

    /** Advances the clock by {@code stepNs} and settles, until {@code ns} have passed. */
    void runFor(long ns, long stepNs) {
        for (long t = 0; t < ns; t += stepNs) {
            clock.advance(stepNs);
            settle();
        }
    }

    /**
     * Steps CPU {@code cpu} (advancing the clock by {@code stepNs} before each step) until
     * {@code cond} holds; fails after {@code maxSteps}.
     */
    void stepUntil(int cpu, long stepNs, int maxSteps, BooleanSupplier cond) {
        for (int i = 0; i < maxSteps; i++) {
            if (cond.getAsBoolean()) {
                return;
            }
            clock.advance(stepNs);
            step(cpu);
        }
        assertTrue(cond.getAsBoolean(), "condition not reached after " + maxSteps + " steps of CPU " + cpu);
    }

    /** Runs the helper's queued work (the error irq work and the disable work). */
    ExitInfo finishExit() {
        ext.runHelperWork();
        return ext.exitInfo();
    }

    long opCalls(ScxOp op) {
        return k.opCalls()[op.ordinal()];
    }

    long kfuncCalls(Kfunc f) {
        return k.kfuncCalls()[f.ordinal()];
    }

    /** The tasks on {@code dsq} in dispatch order, read under its guarding lock. */
    static List<Task> dsqTasks(Dsq dsq) {
        List<Task> l = new ArrayList<>();
        if (dsq.lock != null) {
            dsq.lock.lock();
        } else {
            dsq.rq.lock.lock();
        }
        try {
            for (Task p = dsq.first(); p != null; p = p.scx.dsqNext) {
                l.add(p);
            }
            assertEquals(l.size(), dsq.lpNr(), "dsq nr disagrees with its list");
        } finally {
            if (dsq.lock != null) {
                dsq.lock.unlock();
            } else {
                dsq.rq.lock.unlock();
            }
        }
        return l;
    }

    List<Task> local(int cpu) {
        return dsqTasks(rq(cpu).scx.localDsq);
    }

    List<Task> global() {
        return dsqTasks(ext.globalDsq);
    }

    Dsq userDsq(long id) {
        return ext.dsqHash.get(id);
    }

    /**
     * The task blocks without running (the kernel dequeues it for sleep), as a signal stop or an
     * emulated block of a task that is not current: task_rq_lock, state INTERRUPTIBLE,
     * deactivate_task(DEQUEUE_SLEEP).
     */
    void forceSleep(Task p) {
        Rq rq = k.taskRqLock(p);
        try {
            assertTrue(rq.curr != p, p + " is running");
            p.svState(Task.TASK_INTERRUPTIBLE);
            k.deactivateTask(rq, p, Kernel.DEQUEUE_SLEEP);
        } finally {
            k.taskRqUnlock(rq, p);
        }
    }

    /** Sets TIF_NEED_RESCHED on {@code cpu} as a reschedule IPI would. */
    void resched(int cpu) {
        Rq rq = rq(cpu);
        rq.lock.lock();
        try {
            k.reschedCurr(rq);
        } finally {
            rq.lock.unlock();
        }
    }

    @Override
    public void close() {
        m.close();
    }

    // ---------------------------------------------------------------------------------------------
    // Behaviours
    // ---------------------------------------------------------------------------------------------

    /** Runs {@code runNs}, then exits. */
    static Behavior runThenExit(long runNs) {
        boolean[] ran = new boolean[1];
        return (self, step, now) -> {
            if (!ran[0]) {
                ran[0] = true;
                step.run(runNs);
            } else {
                step.exit();
            }
        };
    }

    /** Runs {@code runNs}, then sleeps {@code sleepNs}, forever. */
    static Behavior sleeper(long runNs, long sleepNs) {
        boolean[] ran = new boolean[1];
        return (self, step, now) -> {
            ran[0] = !ran[0];
            if (ran[0]) {
                step.run(runNs);
            } else {
                step.sleep(sleepNs);
            }
        };
    }
}
