// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.scxemu.schedulers.PairCore;
import org.scxemu.schedulers.ScxPair;

/**
 * The interleaving behind a rare {@code pairing_violations} = 1 of scx_pair with the feature on:
 * a CPU whose task goes to sleep moves the pair to another cgroup in ops.dispatch() and
 * dispatches a task that sits on its sibling's rq to {@code SCX_DSQ_LOCAL}; dispatch_to_local_dsq()
 * drops its rq lock to take the task's rq, and in that window the sibling, woken, starts a task
 * of the new cgroup. Both rq locks are free then, so a locked snapshot of the two {@code curr}s
 * shows the sleeping task of the old cgroup next to it, although that task is not running (its
 * CPU is inside __schedule()). {@link Kernel#currOfPair} reports such a snapshot as not
 * consistent ({@code SCX_RQ_BALANCING} set), and the pair observer skips it. Stepped, with the
 * window opened at {@link RacePoint#CROSS_CPU_MOVE}: deterministic.
 */
class ScxPairBalanceWindowTest {

    @Test
    void snapshotInsideBalanceScxIsNotConsistent() {
        PairCore.Options o = new PairCore.Options();
        o.nrCpuIds = 2;
        o.stride = 1;
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(ScxPair.create(o)));
            // a (cgroup 3) on CPU 1 runs 1 ms and sleeps; b1 and b2 (cgroup 2) wait on CPU 0's rq
            Task a = s.fork(new Kernel.TaskSpec().comm("a").cgroup(3).cpu(1)
                    .behavior(Stepped.sleeper(1_000_000L, 100_000_000L)));
            Task b1 = s.fork(new Kernel.TaskSpec().comm("b1").cgroup(2).cpu(0)
                    .behavior(Behavior.cpuBound(50_000_000L)));
            Task b2 = s.fork(new Kernel.TaskSpec().comm("b2").cgroup(2).cpu(0)
                    .behavior(Behavior.cpuBound(50_000_000L)));
            s.step(1);
            assertSame(a, s.rq(1).curr(), "CPU 1 starts the pair on cgroup 3");
            s.settle();
            assertSame(a, s.rq(1).curr());
            assertSame(s.rq(0).idleTask(), s.rq(0).curr(), "CPU 0 waits: cgroup 3 has nothing more");

            Task[] seen = new Task[2];
            boolean[] consistent = new boolean[1];
            int[] windows = new int[1];
            boolean[] inHook = new boolean[1];
            RacePoint.install(point -> {
                if (point != RacePoint.CROSS_CPU_MOVE || inHook[0] || windows[0] > 0
                        || ExecCtx.current(s.k) != s.rq(1).ctx) {
                    return;
                }
                inHook[0] = true;
                try {
                    windows[0]++;
                    // CPU 1 is inside balance_scx() with its rq lock dropped. A wakeup reschedules
                    // CPU 0, which joins the pair's new cgroup and runs b2.
                    s.resched(0);
                    s.step(0);
                    consistent[0] = s.k.currOfPair(0, 1, seen);
                } finally {
                    inHook[0] = false;
                }
            });
            try {
                s.clock.advance(1_000_000L);
                s.step(1); // a's run ends: it sleeps; CPU 1 moves the pair to cgroup 2, pulls b1
            } finally {
                RacePoint.uninstall();
            }
            assertEquals(1, windows[0], "CPU 1 dropped its rq lock to pull b1 from CPU 0's rq");
            assertSame(b2, seen[0], "CPU 0 runs b2 (cgroup 2) in the window");
            assertSame(a, seen[1], "CPU 1's curr is still a (cgroup 3), which is going to sleep");
            assertEquals(SchedClass.EXT, seen[0].schedClass());
            assertEquals(SchedClass.EXT, seen[1].schedClass());
            assertNotEquals(seen[0].cgroupId(), seen[1].cgroupId(), "a naive snapshot is a violation");
            assertFalse(consistent[0], "the snapshot is flagged: CPU 1 is in balance_scx()");

            // After the window both CPUs run cgroup 2, and the snapshot is consistent again.
            assertSame(b1, s.rq(1).curr());
            assertSame(b2, s.rq(0).curr());
            assertTrue(s.k.currOfPair(0, 1, seen));
            assertEquals(seen[0].cgroupId(), seen[1].cgroupId());
        }
    }
}
