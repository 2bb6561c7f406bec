// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.SCX_CPU_PREEMPT_RT;
import static org.scxemu.scx.Scx.SCX_KICK_WAIT;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/**
 * The kernel profiles' differences in the seed's protocol ({@link CoreProfile}), stepped and
 * deterministic: where cpu_release fires, when pnt_seq moves, what SCX_KICK_WAIT waits for.
 */
class CoreProfileTest {
    /** Records cpu_release with its reason. */
    private static final class Rel implements SchedExtOps {
        final List<String> log = new ArrayList<>();

        @Override
        public String name() {
            return "rel";
        }

        @Override
        public void cpuRelease(int cpu, CpuReleaseArgs a) {
            log.add("release:" + cpu + ":" + a.reason());
        }

        @Override
        public void cpuAcquire(int cpu, CpuAcquireArgs a) {
            log.add("acquire:" + cpu);
        }
    }

    private static Task rt(Stepped s, String comm) {
        return s.forkClass(comm, Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
    }

    @Test
    void v7ReleasesOnAnyHigherClassPickAndBumpsOnEveryPick() {
        try (Stepped s = new Stepped(1, CoreProfile.V7)) {
            Rel r = new Rel();
            assertEquals(0, s.load(r));
            s.settle(); // idle
            long seq = s.rq(0).scx.lpPntSeq();
            Task t = rt(s, "rt");
            s.step(0);
            assertEquals(t, s.rq(0).curr());
            assertEquals(List.of("release:0:" + SCX_CPU_PREEMPT_RT), r.log, "[v7] idle -> RT is a release too");
            assertTrue(s.rq(0).scx.lpPntSeq() > seq);
        }
    }

    @Test
    void sixTwelveReleasesOnlyFromAnExtPrevAndBumpsOnlyThere() {
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            Rel r = new Rel();
            assertEquals(0, s.load(r));
            s.settle();
            Task t = rt(s, "rt0");
            s.step(0);
            assertEquals(t, s.rq(0).curr());
            assertEquals(List.of(), r.log, "6.12: idle -> RT is no switch_class(), no release");
            s.stepUntil(0, 500_000L, 20, () -> s.rq(0).isIdle());
            // ext -> ext: pnt_seq does not move
            Task a = s.fork("a");
            Task b = s.fork("b");
            s.settle();
            long seq = s.rq(0).scx.lpPntSeq();
            s.runFor(100_000_000L, 1_000_000L);
            assertTrue(a.sumExecRuntime() > 0 && b.sumExecRuntime() > 0, "a and b both ran");
            assertEquals(seq, s.rq(0).scx.lpPntSeq(), "6.12: ext -> ext never moves pnt_seq");
            // ext -> RT: switch_class(): bump and release
            Task t2 = rt(s, "rt1");
            s.step(0);
            assertEquals(t2, s.rq(0).curr());
            assertEquals(List.of("release:0:" + SCX_CPU_PREEMPT_RT), r.log);
            assertEquals(seq + 1, s.rq(0).scx.lpPntSeq());
            assertTrue(s.rq(0).scx.lpCpuReleased());
        }
    }

    @Test
    void sixSixteenUsesTheOpsFlag() {
        try (Stepped s = new Stepped(1, CoreProfile.V6_16)) {
            Rel r = new Rel();
            assertEquals(0, s.load(r));
            assertTrue(s.ext.cpuPreemptEnabled());
            s.fork("a");
            s.settle();
            Task t = rt(s, "rt");
            s.step(0);
            assertEquals(t, s.rq(0).curr());
            assertEquals(List.of("release:0:" + SCX_CPU_PREEMPT_RT), r.log);
        }
    }

    @Test
    void sixNineteenMovesKickSyncBetweenExtTasksAndWarnsAtLoad() {
        try (Stepped s = new Stepped(1, CoreProfile.V6_19)) {
            Rel r = new Rel();
            assertEquals(0, s.load(r));
            assertTrue(s.ext.dmesg().contains("ops->cpu_acquire/release() are deprecated, use sched_switch TP instead"),
                    s.ext.dmesg().toString());
            Task a = s.fork("a");
            Task b = s.fork("b");
            s.settle();
            long seq = s.rq(0).scx.lpPntSeq();
            s.runFor(100_000_000L, 1_000_000L);
            assertTrue(a.sumExecRuntime() > 0 && b.sumExecRuntime() > 0, "a and b both ran");
            assertTrue(s.rq(0).scx.lpPntSeq() > seq, "6.19: put_prev/pick move kick_sync");
        }
    }

    /** A kick with SCX_KICK_WAIT from CPU 1 at CPU 0, which runs an RT task. */
    private static boolean waitsOnRtTarget(CoreProfile profile) {
        try (Stepped s = new Stepped(2, profile)) {
            assertEquals(0, s.load(new Rel()));
            Task t = rt(s, "rt");
            s.step(0);
            assertEquals(t, s.rq(0).curr());
            ExecCtx ctx = s.rq(1).ctx;
            s.rq(1).lock.lock();
            try {
                s.ext.kick.kickCpu(ctx, 0, SCX_KICK_WAIT);
            } finally {
                s.rq(1).lock.unlock();
            }
            s.ext.kick.kickCpusIrqWorkfn(ctx);
            boolean waiting = ctx.waitPending;
            s.k.stop(); // ends any wait
            s.ext.kick.pollKickWait(ctx);
            return waiting;
        }
    }

    @Test
    void onlySixNineteenSkipsTheWaitForANonExtTarget() {
        assertTrue(waitsOnRtTarget(CoreProfile.V7));
        assertTrue(waitsOnRtTarget(CoreProfile.V6_12));
        assertFalse(waitsOnRtTarget(CoreProfile.V6_19));
    }
}
