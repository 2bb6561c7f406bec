// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.kernel.ScxConsts.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.scxemu.scx.SchedExtOps;

/**
 * The 6.12 core flow under {@code --kernel 6.12} and the profiles built on it: put_prev_task_scx()
 * runs only when the pick is not prev, balance_one() keeps a runnable prev unless
 * SCX_OPS_ENQ_LAST, and an idle CPU that stays idle does not call update_idle(). Each test also
 * runs the default profile, which keeps v7's flow.
 */
class Core612FlowTest {

    private static boolean v7(CoreProfile p) {
        return p == CoreProfile.V7;
    }

    /** A reschedule with slice left: v7 puts and sets prev again (stopping, running); 6.12 does not. */
    @ParameterizedTest
    @EnumSource(CoreProfile.class)
    void keptPrevIsNotPutAgain(CoreProfile profile) {
        try (Stepped s = new Stepped(1, profile)) {
            KeepRunningTest.LocalSched sched = new KeepRunningTest.LocalSched();
            assertEquals(0, s.load(sched));
            Task[] t = KeepRunningTest.twoTasks(s);
            sched.enqTasks.clear();
            sched.events.clear();
            for (int i = 0; i < 5; i++) {
                s.clock.advance(1_000_000L);
                s.resched(0);
                s.step(0);
                assertEquals(t[0], s.rq(0).curr());
            }
            assertTrue(sched.enqTasks.isEmpty());
            if (v7(profile)) {
                assertEquals(10, sched.events.size(), sched.events.toString());
            } else {
                assertEquals(List.of(), sched.events, "6.12: a kept prev gets no stopping/running");
            }
            assertEquals(List.of(t[1]), s.local(0));
        }
    }

    /** The last runnable task without SCX_OPS_ENQ_LAST: 6.12 keeps it in balance_one() (no op at all). */
    @ParameterizedTest
    @EnumSource(CoreProfile.class)
    void lastTaskWithoutEnqLastIsKept(CoreProfile profile) {
        try (Stepped s = new Stepped(1, profile)) {
            KeepRunningTest.LocalSched sched = new KeepRunningTest.LocalSched();
            assertEquals(0, s.load(sched));
            Task a = s.fork("a");
            s.step(0);
            sched.events.clear();
            for (int i = 0; i < 60; i++) {
                s.clock.advance(1_000_000L);
                s.step(0);
                assertEquals(a, s.rq(0).curr());
            }
            assertTrue(sched.enqTasks.isEmpty(), "neither kernel calls ops.enqueue() here");
            if (!v7(profile)) {
                assertEquals(List.of(), sched.events, "kept by balance_one(): no stopping/running");
                assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            }
        }
    }

    /**
     * The last task with SCX_OPS_ENQ_LAST: 6.12 enqueues it with SCX_ENQ_LAST after the CPU picked
     * idle; the scheduler's local dispatch makes the idle CPU reschedule and run it again.
     */
    @ParameterizedTest
    @EnumSource(CoreProfile.class)
    void lastTaskWithEnqLastIsEnqueuedAndRunsAgain(CoreProfile profile) {
        try (Stepped s = new Stepped(1, profile)) {
            KeepRunningTest.LocalSched sched = new KeepRunningTest.LocalSched();
            sched.opsFlags = SCX_OPS_ENQ_LAST;
            assertEquals(0, s.load(sched));
            Task a = s.fork("a");
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            s.stepUntil(0, 1_000_000L, 40, () -> !sched.enqTasks.isEmpty());
            assertEquals(List.of(a), sched.enqTasks);
            assertEquals(SCX_ENQ_LAST, sched.enqFlags.get(0) & SCX_ENQ_LAST);
            if (!v7(profile)) {
                assertEquals(s.rq(0).idleTask(), s.rq(0).curr(), "6.12: the CPU chose idle first");
                assertTrue(s.rq(0).needResched(), "and the idle task is told to reschedule");
            }
            s.settle();
            assertEquals(a, s.rq(0).curr());
        }
    }

    /** update_idle() on an idle CPU that is rescheduled and stays idle: v7 false+true, 6.12 nothing. */
    @ParameterizedTest
    @EnumSource(CoreProfile.class)
    void idleToIdleRepickSkipsUpdateIdle(CoreProfile profile) {
        try (Stepped s = new Stepped(1, profile)) {
            List<String> log = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "idle_log";
                }

                @Override
                public void updateIdle(int cpu, boolean idle) {
                    log.add(cpu + ":" + idle);
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }
            }));
            s.settle();
            assertEquals(s.rq(0).idleTask(), s.rq(0).curr());
            log.clear();
            s.resched(0);
            s.step(0);
            assertEquals(s.rq(0).idleTask(), s.rq(0).curr());
            assertEquals(v7(profile) ? List.of("0:false", "0:true") : List.of(), log);
        }
    }
}
