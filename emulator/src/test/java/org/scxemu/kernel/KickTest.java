// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/** scx_bpf_kick_cpu(): asynchronous kicks, SCX_KICK_IDLE, SCX_KICK_WAIT and pnt_seq. */
class KickTest {

    /** CPU 1's dispatch() kicks CPU 0 with {@code flags} once armed. */
    private static class Kicker implements SchedExtOps {
        long flags = -1;

        @Override
        public String name() {
            return "kicker";
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            if (cpu == 1 && flags >= 0) {
                scx_bpf_kick_cpu(0, flags);
                flags = -1;
            }
        }
    }

    @Test
    void kickWaitHoldsTheKickerUntilTheTargetPicks() {
        try (Stepped s = new Stepped(2)) {
            Kicker k = new Kicker();
            assertEquals(0, s.load(k));
            Task a = s.forkPinned("a", 0);
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            Rq rq0 = s.rq(0);
            Rq rq1 = s.rq(1);
            k.flags = SCX_KICK_WAIT;
            s.resched(1);
            s.step(1); // dispatch() on CPU 1 queues the kick
            assertTrue(rq1.ctx.kickPending);
            long seq0 = rq0.scx.getPntSeqAcquire();
            assertTrue(s.step(1) > 0, "the irq work ran"); // kick_cpus_irq_workfn(): resched CPU 0, then wait
            assertTrue(rq0.needResched(), "the target was rescheduled");
            assertTrue(rq1.ctx.waitPending);
            assertEquals(seq0, rq1.ctx.pseqs[0], "the waiter snapshots the target's pnt_seq");
            // the kicker spins: nothing else happens on CPU 1, even a pending reschedule
            s.resched(1);
            long switches1 = rq1.nrSwitches();
            long seq1 = rq1.scx.getPntSeqAcquire();
            for (int i = 0; i < 3; i++) {
                assertEquals(0, s.step(1), "the kicker proceeded before the target picked");
            }
            assertEquals(seq1, rq1.scx.getPntSeqAcquire(), "the kicker scheduled while waiting");
            assertEquals(switches1, rq1.nrSwitches());
            assertTrue(rq1.ctx.waitPending);
            // the target goes through the scheduler: pnt_seq moves (a keeps running: slice left)
            s.step(0);
            assertEquals(a, rq0.curr());
            assertEquals(seq0 + 1, rq0.scx.getPntSeqAcquire(), "pnt_seq is bumped on every pick");
            assertTrue(s.step(1) > 0, "the kicker proceeds once the target picked");
            assertFalse(rq1.ctx.waitPending);
            assertFalse(rq1.needResched(), "the kicker ran its pending reschedule");
        }
    }

    @Test
    void kickWaitOnSelfDoesNotWait() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "selfwait";
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    scx_bpf_kick_cpu(cpu, SCX_KICK_WAIT);
                }
            }));
            s.resched(1);
            s.step(1);
            s.step(1);
            assertFalse(s.rq(1).ctx.waitPending);
        }
    }

    @Test
    void plainKickReschedulesButASliceLeftKeepsTheTask() {
        try (Stepped s = new Stepped(2)) {
            Kicker k = new Kicker();
            assertEquals(0, s.load(k));
            Task a = s.forkPinned("a", 0);
            s.step(0);
            long seq = s.rq(0).scx.getPntSeqAcquire();
            k.flags = 0;
            s.resched(1);
            s.step(1);
            s.step(1);
            assertTrue(s.rq(0).needResched());
            assertTrue(a.scx.slice > 0, "a kick without PREEMPT leaves the slice");
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            assertEquals(seq + 1, s.rq(0).scx.getPntSeqAcquire());
        }
    }

    @Test
    void kickIdleOnlyWakesIdleCpus() {
        try (Stepped s = new Stepped(2)) {
            boolean[] arm = new boolean[1];
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "kick_idle";
                }

                @Override
                public void tick(Task p) {
                    if (arm[0]) {
                        arm[0] = false;
                        scx_bpf_kick_cpu(1, SCX_KICK_IDLE); // idle: woken
                        scx_bpf_kick_cpu(0, SCX_KICK_IDLE); // busy (this CPU): skipped
                    }
                }
            }));
            Task a = s.forkPinned("a", 0);
            s.settle(); // also clears the reschedule every CPU got at load
            assertEquals(a, s.rq(0).curr());
            assertFalse(s.rq(1).needResched());
            arm[0] = true;
            s.clock.advance(1_000_000L);
            s.step(0); // tick -> ops.tick() kicks; the irq work runs on the next pass
            assertTrue(s.rq(0).ctx.kickPending);
            s.step(0);
            assertTrue(s.rq(1).needResched(), "the idle CPU was kicked");
            assertFalse(s.rq(0).needResched(), "a busy CPU is not kicked by SCX_KICK_IDLE");
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void kickOfAnInvalidCpuIsAnError() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "kick_bad";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    scx_bpf_kick_cpu(5, 0);
                    return prevCpu;
                }
            }));
            s.fork("t");
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("invalid CPU 5", ei.msg());
        }
    }
}
