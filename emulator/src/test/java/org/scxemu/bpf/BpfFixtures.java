// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;
import org.scxemu.scx.Scx;

/** The committed fixture objects (src/test/bpf) and small run helpers for the BPF tests. */
final class BpfFixtures {
    static final long MS = 1_000_000L;

    private BpfFixtures() {
    }

    static Path obj(String name) {
        return Path.of("src/test/bpf", name + ".bpf.o");
    }

    static SchedExtOps load(String name, int cpus) throws BpfLoadException {
        BpfScheduler.Options o = new BpfScheduler.Options();
        o.nrCpus = cpus;
        o.seed = 1;
        return BpfScheduler.load(obj(name), o);
    }

    static BpfObject object(String name) throws BpfLoadException {
        return new BpfObject(obj(name), 4, java.util.Set.of(), java.util.Map.of());
    }

    /** 300 us of work, 700 us of sleep, forever. */
    static Behavior sleeper() {
        boolean[] runNext = {true};
        return (self, step, now) -> {
            if (runNext[0]) {
                step.run(300_000L);
            } else {
                step.sleep(700_000L);
            }
            runNext[0] = !runNext[0];
        };
    }

    static List<Task> mixed(Machine m, int hogs, int sleepers) {
        List<Task> l = new ArrayList<>();
        for (int i = 0; i < hogs; i++) {
            l.add(m.kernel().fork(new Kernel.TaskSpec().comm("hog" + i).behavior(Behavior.cpuBound(500_000L))));
        }
        for (int i = 0; i < sleepers; i++) {
            l.add(m.kernel().fork(new Kernel.TaskSpec().comm("sleeper" + i).behavior(sleeper())));
        }
        return l;
    }

    /** Runs two windows; every task must make progress in each, with no exit and no kernel bug. */
    static void runAndAssertProgress(Machine m, List<Task> tasks, long windowNs) {
        m.runFor(windowNs);
        long[] first = new long[tasks.size()];
        for (int i = 0; i < first.length; i++) {
            first[i] = tasks.get(i).sumExecRuntime();
            assertTrue(first[i] > 0, tasks.get(i) + " never ran; exit " + m.ext().exitInfo().msg());
        }
        m.runFor(windowNs);
        for (int i = 0; i < first.length; i++) {
            assertTrue(tasks.get(i).sumExecRuntime() > first[i], tasks.get(i) + " stopped running");
        }
        assertNull(m.kernel().bug(), () -> "kernel BUG: " + m.kernel().bug());
        assertEquals(Scx.SCX_EXIT_NONE, m.ext().exitKind(),
                () -> "scheduler exited: " + m.ext().exitInfo().kindName() + " " + m.ext().exitInfo().msg());
    }

    /** Runs until the scheduler exits on its own (at most {@code timeoutNs}) and is disabled. */
    static boolean awaitExit(Machine m, long timeoutNs) {
        long end = System.nanoTime() + timeoutNs;
        while (m.ext().exitKind() == Scx.SCX_EXIT_NONE && System.nanoTime() < end && m.kernel().bug() == null) {
            m.runFor(20 * MS);
        }
        if (m.ext().exitKind() == Scx.SCX_EXIT_NONE) {
            return false;
        }
        while (m.ext().enableState() != Ext.SCX_OPS_DISABLED && System.nanoTime() < end) {
            m.runFor(10 * MS);
        }
        return m.ext().enableState() == Ext.SCX_OPS_DISABLED;
    }
}
