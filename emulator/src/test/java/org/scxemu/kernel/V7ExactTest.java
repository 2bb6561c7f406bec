// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.kernel.ScxConsts.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.scxemu.scx.SchedExtOps;

/**
 * Defects of the default profile found against the v7 series: each test here
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

    /** A scheduler whose load-time paths fail as configured. */
    private static final class Failing implements SchedExtOps {
        long opsFlags;
        int initRet;
        int initTaskRet;
        String disallowComm;

        @Override
        public String name() {
            return "failing";
        }

        @Override
        public long flags() {
            return opsFlags;
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            org.scxemu.scx.Scx.scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enqFlags);
        }

        @Override
        public int init() {
            return initRet;
        }

        @Override
        public int initTask(Task p, InitTaskArgs args) {
            if (p.comm.equals(disallowComm)) {
                p.scx.disallow = true;
            }
            return p.comm.equals("victim") ? initTaskRet : 0;
        }
    }

    /** A scheduler without ops.enqueue() asking for SCX_OPS_ENQ_LAST. */
    private static final class EnqLastNoEnqueue implements SchedExtOps {
        @Override
        public String name() {
            return "enq_last_no_enq_fails";
        }

        @Override
        public long flags() {
            return SCX_OPS_ENQ_LAST;
        }
    }

    /** v7: validate_ops() failing refuses the attach with -EINVAL, fully disabled on return. */
    @Test
    void v7RefusesEnqLastWithoutEnqueue() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(-EINVAL, s.load(new EnqLastNoEnqueue()));
            assertEquals("ERROR", s.ext.exitInfo().kindName());
            assertEquals("SCX_OPS_ENQ_LAST requires ops.enqueue() to be implemented", s.ext.exitInfo().msg());
            assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
            assertFalse(ScxKeys.SCX_OPS_ENABLED.enabled());
            assertEquals(0, s.load(() -> "after"), "the next load works");
        }
    }

    /** v7: a failing ops.init() refuses the attach with its errno (scx_ops_disable(SCX_EXIT_ERROR)). */
    @Test
    void v7RefusesFailingInit() {
        try (Stepped s = new Stepped(1)) {
            Failing f = new Failing();
            f.initRet = -ENOMEM;
            assertEquals(-ENOMEM, s.load(f));
            assertEquals("ERROR", s.ext.exitInfo().kindName());
            assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
        }
    }

    /** v7: a failing load-time ops.init_task() is logged and refuses the attach with its errno. */
    @Test
    void v7RefusesFailingLoadTimeInitTask() {
        try (Stepped s = new Stepped(1)) {
            Task victim = s.fork("victim");
            s.settle();
            Failing f = new Failing();
            f.initTaskRet = -ENOMEM;
            assertEquals(-ENOMEM, s.load(f));
            assertEquals("ERROR", s.ext.exitInfo().kindName());
            assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
            assertEquals(SchedClass.FAIR, victim.schedClass());
            assertTrue(s.ext.dmesg().contains("sched_ext: ops.init_task() failed (-12) for victim[" + victim.pid
                    + "] while loading"), s.ext.dmesg().toString());
        }
    }

    /** 6.12 and later keep the attach successful and eject: the load returns 0. */
    @ParameterizedTest
    @EnumSource(value = CoreProfile.class, names = {"V6_12", "V6_16", "V6_19"})
    void laterKernelsLoadThenEject(CoreProfile profile) {
        try (Stepped s = new Stepped(1, profile)) {
            assertEquals(0, s.load(new EnqLastNoEnqueue()));
            s.finishExit();
            assertEquals("ERROR", s.ext.exitInfo().kindName());
            assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
        }
    }

    /**
     * task_should_scx() does not look at p->scx.disallow: in full-switch mode a task whose
     * load-time ops.init_task() set it still goes to ext (disallow only reverts SCHED_EXT).
     */
    @ParameterizedTest
    @EnumSource(CoreProfile.class)
    void disallowDoesNotKeepATaskOffExtInFullSwitch(CoreProfile profile) {
        try (Stepped s = new Stepped(1, profile)) {
            Task x = s.fork("x");
            s.settle();
            Failing f = new Failing();
            f.disallowComm = "x";
            assertEquals(0, s.load(f));
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertEquals(SchedClass.EXT, x.schedClass());
        }
    }

    /**
     * A scheduler with ops.update_idle() and without SCX_OPS_KEEP_BUILTIN_IDLE; it has its own
     * ops.select_cpu(), as v7 requires of such a scheduler.
     */
    private static final class UpdateIdle implements SchedExtOps {
        @Override
        public String name() {
            return "update_idle";
        }

        @Override
        public int selectCpu(Task p, int prevCpu, long wakeFlags) {
            return prevCpu;
        }

        @Override
        public void updateIdle(int cpu, boolean idle) {
        }
    }

    /**
     * While bypassing, every wakeup takes the default CPU selection: with ops.update_idle() and
     * built-in idle tracking off, that must not eject the scheduler (a reload races such wakeups).
     * Before the fix: "built-in idle tracking is disabled".
     */
    @ParameterizedTest
    @EnumSource(CoreProfile.class)
    void bypassWakeupWithUpdateIdleIsNotAnError(CoreProfile profile) {
        try (Stepped s = new Stepped(2, profile)) {
            assertEquals(0, s.load(new UpdateIdle()));
            assertFalse(ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled());
            Task a = s.fork("a");
            Task b = s.fork("b");
            Task c = s.fork("c");
            s.settle();
            Task sleeper = s.rq(0).curr() != a && s.rq(1).curr() != a ? a
                    : s.rq(0).curr() != b && s.rq(1).curr() != b ? b : c;
            s.forceSleep(sleeper);
            s.ext.scxOpsBypass(true);
            try {
                s.k.wakeUpProcess(sleeper);
            } finally {
                s.ext.scxOpsBypass(false);
            }
            s.settle();
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind(), String.valueOf(s.ext.exitInfo().msg()));
        }
    }

    /**
     * The masks in kf_mask error texts are the profile kernel's numbers: v7 has SCX_KF_SLEEPABLE
     * at bit 0, 6.12 removed it and every other bit moved down one. Before the fix every profile
     * printed v7's.
     */
    @ParameterizedTest
    @EnumSource(CoreProfile.class)
    void kfMaskErrorTextsUseTheProfilesValues(CoreProfile profile) {
        try (Stepped s = new Stepped(1, profile)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "kfmask";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    org.scxemu.scx.Scx.scx_bpf_consume(SCX_DSQ_GLOBAL);
                }
            }));
            s.fork("t");
            ExitInfo ei = s.finishExit();
            assertEquals(profile == CoreProfile.V7
                    ? "kfunc with mask 0x4 called from an operation only allowing 0x8"
                    : "kfunc with mask 0x2 called from an operation only allowing 0x4", ei.msg());
        }
    }

    /** ops.cpu_acquire() runs with kf_mask 0 in v7 and SCX_KF_REST in 6.12 and later. */
    @ParameterizedTest
    @EnumSource(CoreProfile.class)
    void cpuAcquireMaskFollowsTheProfile(CoreProfile profile) {
        try (Stepped s = new Stepped(1, profile)) {
            int[] mask = {-1};
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "acq";
                }

                @Override
                public void cpuAcquire(int cpu, CpuAcquireArgs a) {
                    mask[0] = ExecCtx.currentAny().kfMask;
                }
            }));
            Task a = s.fork("a");
            s.settle();
            assertEquals(a, s.rq(0).curr());
            s.forkClass("rt", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            s.step(0);
            s.stepUntil(0, 500_000L, 20, () -> mask[0] != -1);
            assertEquals(profile == CoreProfile.V7 ? 0 : SCX_KF_REST, mask[0]);
        }
    }

    /**
     * A task pulled from another CPU's rq (consume of the global DSQ): v7 sends ops.quiescent()
     * and ops.runnable() for the deactivate/activate of the move, 6.12 and later send neither.
     * Before the fix v7 sent neither.
     */
    @ParameterizedTest
    @EnumSource(CoreProfile.class)
    void crossCpuMoveRunnableQuiescentFollowTheProfile(CoreProfile profile) {
        try (Stepped s = new Stepped(2, profile)) {
            java.util.List<String> log = new java.util.ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "movers";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    org.scxemu.scx.Scx.scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enqFlags);
                }

                @Override
                public void runnable(Task p, long enqFlags) {
                    if (p.comm.equals("t")) {
                        log.add("runnable");
                    }
                }

                @Override
                public void quiescent(Task p, long deqFlags) {
                    if (p.comm.equals("t")) {
                        log.add("quiescent");
                    }
                }
            }));
            s.settle();
            Task busy = s.forkPinned("busy", 1);
            s.step(1);
            assertEquals(busy, s.rq(1).curr());
            Task t = s.fork(new Kernel.TaskSpec().comm("t").cpu(1).behavior(Behavior.cpuBound(1_000_000L)));
            assertEquals(java.util.List.of("runnable"), log);
            s.resched(0);
            s.step(0);
            assertEquals(t, s.rq(0).curr(), "CPU 0 pulled t from CPU 1's rq");
            assertEquals(profile == CoreProfile.V7 ? java.util.List.of("runnable", "quiescent", "runnable")
                    : java.util.List.of("runnable"), log);
        }
    }

    /**
     * 500 load/unload cycles of a scheduler with ops.update_idle() (built-in idle tracking off)
     * on running CPU threads with tasks sleeping and waking throughout, so wakeups race the
     * enable and disable bypass windows: every cycle ends with the unload (UNREG), none with
     * "built-in idle tracking is disabled".
     */
    @ParameterizedTest
    @EnumSource(value = CoreProfile.class, names = {"V7", "V6_12"})
    void fiveHundredReloadsWithUpdateIdleAreClean(CoreProfile profile) {
        try (org.scxemu.harness.Machine m = org.scxemu.harness.Machine.threaded(4, Kernel.TICK_NS_DEFAULT,
                Tracer.NONE, profile)) {
            Kernel k = m.kernel();
            m.start();
            for (int i = 0; i < 8; i++) {
                k.fork(new Kernel.TaskSpec().comm("w" + i).behavior(Stepped.sleeper(50_000L, 50_000L)));
            }
            for (int cycle = 0; cycle < 500; cycle++) {
                assertEquals(0, m.load(new UpdateIdle()), "cycle " + cycle);
                m.unload();
                assertEquals("UNREG", m.ext().exitInfo().kindName(), "cycle " + cycle + ": "
                        + m.ext().exitInfo().msg());
            }
            assertEquals(null, k.bug());
        }
    }
}
