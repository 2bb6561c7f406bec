// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;

/** The selftest minimal on CPU threads: a name-only scheduler runs every task, then detaches. */
class SmokeTest {
    @Test
    void minimalSchedulerRunsTasksOnThreads() {
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(() -> "minimal"));
            m.start();
            List<Task> tasks = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                tasks.add(m.kernel().fork(new Kernel.TaskSpec().comm("t" + i).behavior(Behavior.cpuBound(500_000L))));
            }
            m.runFor(300_000_000L);
            assertNull(m.kernel().bug());
            for (Task t : tasks) {
                assertTrue(t.sumExecRuntime() > 0, t + " never ran");
                assertEquals(SchedClass.EXT, t.schedClass());
            }
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            for (Task t : tasks) {
                assertEquals(SchedClass.FAIR, t.schedClass());
            }
            assertTrue(m.ext().dmesg().contains("sched_ext: BPF scheduler \"minimal\" enabled"));
            assertTrue(m.ext().dmesg().contains(
                    "sched_ext: BPF scheduler \"minimal\" disabled (unregistered from user space)"));
            assertNull(m.kernel().bug());
        }
    }
}
