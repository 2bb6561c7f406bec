// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.SCX_EXIT_NONE;

import java.util.ArrayList;
import java.util.List;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.ScxOp;
import org.scxemu.kernel.Task;

/**
 * Workload and assertion helpers for the scheduler tests. Every duration is generous: the tests
 * must pass on a loaded two-core host running four simulated CPU threads.
 */
final class SchedTestSupport {
    static final long MS = 1_000_000L;

    private SchedTestSupport() {
    }

    /** A task that alternates {@code runNs} of CPU with {@code sleepNs} of sleep, forever. */
    static Behavior sleeper(long runNs, long sleepNs) {
        // owned by whichever CPU runs the task; the kernel orders successive calls
        boolean[] runNext = {true};
        return (self, step, now) -> {
            if (runNext[0]) {
                step.run(runNs);
            } else {
                step.sleep(sleepNs);
            }
            runNext[0] = !runNext[0];
        };
    }

    /** A task that runs {@code phases} phases of {@code runNs} and exits. */
    static Behavior shortLived(long runNs, int phases) {
        int[] left = {phases};
        return (self, step, now) -> {
            if (left[0]-- > 0) {
                step.run(runNs);
            } else {
                step.exit();
            }
        };
    }

    static Task fork(Machine m, String comm, int nice, Behavior b) {
        Task t = m.kernel().fork(new Kernel.TaskSpec().comm(comm).nice(nice).behavior(b));
        assertTrue(t != null, "fork of " + comm + " refused");
        return t;
    }

    static Task forkPinned(Machine m, String comm, int nice, int cpu, Behavior b) {
        Task t = m.kernel().fork(new Kernel.TaskSpec().comm(comm).nice(nice).allowed(CpuMask.of(cpu)).cpu(cpu)
                .behavior(b));
        assertTrue(t != null, "fork of " + comm + " refused");
        return t;
    }

    /** {@code n} CPU-bound tasks named {@code prefix0..} running in 500 us phases. */
    static List<Task> cpuBound(Machine m, String prefix, int n) {
        List<Task> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(fork(m, prefix + i, 0, Behavior.cpuBound(500_000L)));
        }
        return l;
    }

    /** {@code n} sleep/wake tasks: 300 us of work, 700 us of sleep. */
    static List<Task> sleepers(Machine m, String prefix, int n) {
        List<Task> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(fork(m, prefix + i, 0, sleeper(300_000L, 700_000L)));
        }
        return l;
    }

    static long op(Machine m, ScxOp op) {
        return m.kernel().opCalls()[op.ordinal()];
    }

    static long kf(Machine m, Kfunc k) {
        return m.kernel().kfuncCalls()[k.ordinal()];
    }

    static long[] runtimes(List<Task> tasks) {
        long[] r = new long[tasks.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = tasks.get(i).sumExecRuntime();
        }
        return r;
    }

    /**
     * Runs the machine for two windows and asserts that every task ran in each: none was lost,
     * none starves.
     */
    static void runAndAssertProgress(Machine m, List<Task> tasks, long windowNs) {
        m.runFor(windowNs);
        long[] first = runtimes(tasks);
        for (int i = 0; i < first.length; i++) {
            assertTrue(first[i] > 0, tasks.get(i) + " never ran");
        }
        m.runFor(windowNs);
        long[] second = runtimes(tasks);
        for (int i = 0; i < second.length; i++) {
            assertTrue(second[i] > first[i], tasks.get(i) + " stopped running (" + first[i] + " ns, then "
                    + second[i] + " ns)");
        }
        assertNull(m.kernel().bug(), () -> "kernel BUG: " + m.kernel().bug());
        assertEquals(SCX_EXIT_NONE, m.ext().exitKind(),
                () -> "scheduler exited: " + m.ext().exitInfo().kindName() + " " + m.ext().exitInfo().msg());
    }

    /**
     * Waits (up to {@code timeoutNs}) for the scheduler to exit on its own and for the disable to
     * finish (ops.exit() has run and the state is DISABLED). Polls the state rather than relying
     * on {@code Ext.awaitDisabled()} alone, which may return before the disable work is queued
     * (see {@link ScxKernelBugTest#awaitDisabledWaitsForTheDisableAfterAnError}).
     *
     * @return true if it exited and was disabled in time
     */
    static boolean awaitExit(Machine m, long timeoutNs) {
        long end = System.nanoTime() + timeoutNs;
        while (m.ext().exitKind() == SCX_EXIT_NONE && System.nanoTime() < end && m.kernel().bug() == null) {
            m.runFor(20 * MS);
        }
        if (m.ext().exitKind() == SCX_EXIT_NONE) {
            return false;
        }
        while (m.ext().enableState() != Ext.SCX_OPS_DISABLED && System.nanoTime() < end) {
            m.ext().awaitDisabled();
            m.runFor(MS);
        }
        return m.ext().enableState() == Ext.SCX_OPS_DISABLED;
    }
}
