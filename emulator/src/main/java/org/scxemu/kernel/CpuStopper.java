// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * stop_machine.c's per-CPU stopper ({@code struct cpu_stopper} and its {@code migration/N}
 * thread): a task of class stop pinned to one CPU that runs queued works there, ahead of every
 * other class. scx-emu uses it for what the kernel's affinity code does with
 * {@code stop_one_cpu_nowait(migration_cpu_stop)}: taking a running task off a CPU its new mask no
 * longer allows ({@link Kernel#setCpusAllowedPtr}). When the stopper becomes runnable it preempts
 * the task at the next preemption point (an ext task gets {@code ops.cpu_release()} with
 * {@code SCX_CPU_PREEMPT_STOP}, as in the kernel), and once it runs the task is switched out and
 * can be moved like any queued task.
 *
 * <p>Threads: {@link #queue} is called by any thread (the affinity path queues while holding the
 * stopper's {@code pi_lock} and the CPU's rq lock, then wakes the stopper); the works run on the
 * CPU thread running the stopper, in its {@link Behavior}, outside every kernel lock.
 *
 * <p>Memory consistency effects: a work queued before the stopper is woken is seen by the stopper
 * run that follows the wakeup. {@code works} is a lock-free queue (its offer is a volatile write,
 * its poll a volatile read); the stopper sets {@code TASK_INTERRUPTIBLE} (a volatile store,
 * set_current_state()) before it polls the queue for the last time, and the waker reads the state
 * after its offer, under the stopper's {@code pi_lock} (the smp_mb__after_spinlock() of
 * try_to_wake_up()): either the stopper sees the work, or the waker sees it sleeping and wakes
 * it.
 */
final class CpuStopper implements Behavior {
    /** {@code struct migration_arg}: the task and the CPU it should go to. Immutable. */
    static final class MigrationArg {
        final Task task;
        final int destCpu;

        MigrationArg(Task task, int destCpu) {
            this.task = task;
            this.destCpu = destCpu;
        }
    }

    private final Kernel kernel;
    final int cpu;
    /** The {@code migration/N} task; set once before the stopper is published (volatile array). */
    Task task;
    /** stopper->works; any thread offers, the stopper polls. */
    private final ConcurrentLinkedQueue<MigrationArg> works = new ConcurrentLinkedQueue<>();

    CpuStopper(Kernel kernel, int cpu) {
        this.kernel = kernel;
        this.cpu = cpu;
    }

    /** cpu_stop_queue_work(): the caller wakes {@link #task} afterwards. */
    void queue(MigrationArg arg) {
        works.offer(arg);
    }

    /** cpu_stopper_thread() under smpboot_thread_fn(): run every queued work, then sleep. */
    @Override
    public void next(Task self, Step step, long nowNs) {
        for (;;) {
            kernel.prepareToWait(self);
            MigrationArg a = works.poll();
            if (a == null) {
                step.block();
                return;
            }
            kernel.finishWait(self);
            do {
                kernel.migrationCpuStop(kernel.rq(cpu), a);
            } while ((a = works.poll()) != null);
        }
    }
}
