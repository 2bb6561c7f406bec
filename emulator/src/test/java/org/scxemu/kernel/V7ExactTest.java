// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/**
 * Defects of the default profile found against the v7 series (issue 14, part 1): each test here
 * failed before its fix.
 */
class V7ExactTest {

    /** Counts the acquire, dispatch and release calls of one CPU. */
    private static final class Counting implements SchedExtOps {
        int acquires;
        int dispatches;
        int releases;

        @Override
        public String name() {
            return "counting";
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            dispatches++;
        }

        @Override
        public void cpuAcquire(int cpu, CpuAcquireArgs a) {
            acquires++;
        }

        @Override
        public void cpuRelease(int cpu, CpuReleaseArgs a) {
            releases++;
        }
    }

    /**
     * A CPU running an RT task that is rescheduled stops the class walk at balance_rt() (the
     * running task counts as queued): no balance_scx(), so no acquire, dispatch or release.
     * Before the fix each reschedule gave one acquire -> dispatch -> release cycle.
     */
    @Test
    void rescheduledRtTaskNeverReachesBalanceScx() {
        for (CoreProfile profile : CoreProfile.values()) {
            try (Stepped s = new Stepped(1, profile)) {
                Counting c = new Counting();
                assertEquals(0, s.load(c));
                Task a = s.fork("a");
                s.settle();
                assertEquals(a, s.rq(0).curr());
                Task rt = s.forkClass("rt", Task.SCHED_FIFO, 0, Behavior.cpuBound(1_000_000_000L));
                s.step(0);
                assertEquals(rt, s.rq(0).curr());
                int acq = c.acquires;
                int disp = c.dispatches;
                int rel = c.releases;
                for (int i = 0; i < 10; i++) {
                    s.resched(0);
                    s.clock.advance(10_000L);
                    s.step(0);
                    assertEquals(rt, s.rq(0).curr());
                }
                assertEquals(acq, c.acquires, profile + ": cpu_acquire on an RT reschedule");
                assertEquals(disp, c.dispatches, profile + ": ops.dispatch on an RT reschedule");
                assertEquals(rel, c.releases, profile + ": cpu_release on an RT reschedule");
            }
        }
    }
}
