// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.benchmarks;

import org.scxemu.harness.Machine;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.Clock;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Rq;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;

/**
 * The machine {@link PickPathBench} and {@link CpuPreemptFastPathBench} measure: one stepped CPU
 * whose tasks yield every time they run, so one cycle ({@code step(0)} twice) is exactly one
 * context switch through the whole scheduling path. {@link #load} fails unless that holds for
 * {@value #CHECK_CYCLES} cycles; {@link #verifyAndClose} fails on a kernel BUG, an ejected
 * scheduler, or a switch count that differs from the cycles the benchmark ran.
 *
 * <p>Used from one JMH trial thread; only one scheduler can be loaded per JVM.
 */
final class YieldCycle {
    static final int CHECK_CYCLES = 16;

    final Machine machine;
    final Rq rq;
    private final String name;
    private final long switchesAtStart;

    private YieldCycle(Machine machine, String name) {
        this.machine = machine;
        this.name = name;
        this.rq = machine.kernel().rq(0);
        machine.step(0); // get the first task running
        long before = rq.nrSwitches();
        Task prev = rq.curr();
        for (int i = 0; i < CHECK_CYCLES; i++) {
            machine.step(0);
            machine.step(0);
            Task next = rq.curr();
            if (next == prev || next == rq.idleTask()) {
                throw new IllegalStateException("cycle " + i + " did not switch tasks: " + prev + " -> " + next);
            }
            prev = next;
        }
        if (rq.nrSwitches() - before != CHECK_CYCLES) {
            throw new IllegalStateException("expected " + CHECK_CYCLES + " switches, got "
                    + (rq.nrSwitches() - before));
        }
        this.switchesAtStart = rq.nrSwitches();
    }

    /** Loads {@code ops} on a fresh stepped one-CPU machine with {@code tasks} yielding tasks. */
    static YieldCycle load(SchedExtOps ops, int tasks) {
        Machine machine = Machine.stepped(1, new Clock.Manual());
        int ret = machine.load(ops);
        if (ret != 0) {
            machine.close();
            throw new IllegalStateException(ops.name() + " failed to load: " + ret);
        }
        Kernel kernel = machine.kernel();
        Behavior yielder = (self, step, now) -> step.yield();
        for (int i = 0; i < tasks; i++) {
            kernel.fork(new Kernel.TaskSpec().comm("yield" + i).behavior(yielder));
        }
        return new YieldCycle(machine, ops.name());
    }

    /** Checks the trial ({@code cycles} run since {@link #load}) and unloads the scheduler. */
    void verifyAndClose(long cycles) {
        try {
            Throwable bug = machine.kernel().bug();
            if (bug != null) {
                throw new IllegalStateException("kernel BUG during the benchmark", bug);
            }
            if (machine.ext().enableState() != Ext.SCX_OPS_ENABLED) {
                throw new IllegalStateException(name + " was ejected: " + machine.ext().exitInfo());
            }
            long switches = rq.nrSwitches() - switchesAtStart;
            if (switches != cycles) {
                throw new IllegalStateException(switches + " switches in " + cycles + " cycles");
            }
        } finally {
            machine.close();
        }
    }
}
