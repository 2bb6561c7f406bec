// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * The next thing a task does, filled in by its {@link Behavior}. One instance per task, reused:
 * the hot path allocates nothing. Owned by the CPU thread running the task.
 */
public final class Step {
    public enum Kind {
        /** Use the CPU for {@code ns}. */
        RUN,
        /** Sleep for {@code ns} (an hrtimer wakes the task). */
        SLEEP,
        /** Block until another task calls {@link Kernel#wakeUpProcess}. */
        BLOCK,
        /** sched_yield(). */
        YIELD,
        /** do_exit(). */
        EXIT
    }

    Kind kind = Kind.RUN;
    long ns;

    public void run(long runNs) {
        kind = Kind.RUN;
        ns = Math.max(1, runNs);
    }

    public void sleep(long sleepNs) {
        kind = Kind.SLEEP;
        ns = Math.max(1, sleepNs);
    }

    /**
     * Block until woken. The caller must have called {@link Kernel#prepareToWait} before checking
     * its wake-up condition, as with set_current_state() in the kernel, so no wakeup is lost.
     */
    public void block() {
        kind = Kind.BLOCK;
        ns = 0;
    }

    public void yield() {
        kind = Kind.YIELD;
        ns = 0;
    }

    public void exit() {
        kind = Kind.EXIT;
        ns = 0;
    }

    public Kind kind() {
        return kind;
    }
}
