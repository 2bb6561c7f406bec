// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * What a task does when it has the CPU: the emulator's stand-in for user code.
 *
 * <p>{@link #next} is called on the CPU thread running the task, outside every kernel lock, when
 * the task first runs and each time its current run phase is used up. It fills in {@link Step};
 * it may wake other tasks through {@link Kernel#wakeUpProcess} (a syscall made by the task).
 * Implementations own whatever state they keep per task (see {@link Task#workloadData}).
 */
@FunctionalInterface
public interface Behavior {
    void next(Task self, Step step, long nowNs);

    /** A task that only runs, in phases of {@code phaseNs}. */
    static Behavior cpuBound(long phaseNs) {
        return (self, step, now) -> step.run(phaseNs);
    }
}
