// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.scxemu.scx.SchedExtOps;

/**
 * The seed: ops.cpu_acquire() / ops.cpu_release(), rq->scx.cpu_released, the
 * scx_ops_cpu_preempt static key, scx_bpf_reenqueue_local() and SCX_ENQ_REENQ [v7].
 */
class CpuAcquireReleaseTest {

    /** Records cpu_release / cpu_acquire with their context. */
    private static class Rel implements SchedExtOps {
        final List<String> log = new ArrayList<>();
        final List<SchedExtOps.CpuReleaseArgs> args = new ArrayList<>();
        final List<String> ctxErrors = new ArrayList<>();
        Stepped s;

        @Override
        public String name() {
            return "rel";
        }

        @Override
        public void cpuRelease(int cpu, CpuReleaseArgs a) {
            log.add("release:" + cpu);
            args.add(a);
            ExecCtx ctx = ExecCtx.currentAny();
            if (ctx.kfMask != SCX_KF_CPU_RELEASE) {
                ctxErrors.add("cpu_release kf_mask 0x" + Integer.toHexString(ctx.kfMask));
            }
            if (s != null && !s.rq(cpu).lock.isHeldByCurrentThread()) {
                ctxErrors.add("cpu_release without the rq lock");
            }
            if (s != null && s.rq(cpu).scx.lpCpuReleased()) {
                ctxErrors.add("cpu_release with cpu_released already set");
            }
        }

        @Override
        public void cpuAcquire(int cpu, CpuAcquireArgs a) {
            log.add("acquire:" + cpu);
            ExecCtx ctx = ExecCtx.currentAny();
            if (ctx.kfMask != 0) {
                ctxErrors.add("cpu_acquire kf_mask 0x" + Integer.toHexString(ctx.kfMask) + " ([v7]: 0)");
            }
            if (s != null && !s.rq(cpu).scx.lpCpuReleased()) {
                ctxErrors.add("cpu_acquire without a release");
            }
        }
    }

    private static Rel loadRel(Stepped s) {
        Rel r = new Rel();
        r.s = s;
        assertEquals(0, s.load(r));
        return r;
    }

    /** An ext task running on CPU 0 of a 1-CPU machine. */
    private static Task extRunning(Stepped s) {
        Task a = s.fork("a");
        s.settle();
        assertEquals(a, s.rq(0).curr());
        return a;
    }

    @Test
    void releaseOncePerWindowAndAcquireAtTheNextBalance() {
        try (Stepped s = new Stepped(1)) {
            Rel r = loadRel(s);
            Task a = extRunning(s);
            Task rt1 = s.forkClass("rt1", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            Task rt2 = s.forkClass("rt2", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            s.step(0);
            assertEquals(rt1, s.rq(0).curr());
            assertEquals(List.of("release:0"), r.log);
            assertSame(rt1, r.args.get(0).task(), "args.task is the task about to run");
            assertEquals(SCX_CPU_PREEMPT_RT, r.args.get(0).reason());
            assertTrue(s.rq(0).scx.lpCpuReleased());
            s.stepUntil(0, 500_000L, 20, () -> s.rq(0).curr() == rt2);
            assertEquals(List.of("release:0"), r.log, "two RT picks in a row: one release");
            assertTrue(s.rq(0).scx.lpCpuReleased());
            s.stepUntil(0, 500_000L, 20, () -> s.rq(0).curr() == a);
            assertEquals(List.of("release:0", "acquire:0"), r.log);
            assertFalse(s.rq(0).scx.lpCpuReleased());
            assertEquals(1, s.rq(0).scx.releaseWindows());
            // a new window
            Task rt3 = s.forkClass("rt3", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            s.step(0);
            assertEquals(rt3, s.rq(0).curr());
            assertEquals(List.of("release:0", "acquire:0", "release:0"), r.log);
            assertEquals(List.of(), r.ctxErrors);
            assertEquals(2, s.opCalls(ScxOp.CPU_RELEASE));
            assertEquals(1, s.opCalls(ScxOp.CPU_ACQUIRE));
        }
    }

    @Test
    void noReleaseForExtToIdleOrExtToExt() {
        try (Stepped s = new Stepped(1)) {
            Rel r = loadRel(s);
            Task a = s.fork(new Kernel.TaskSpec().comm("a").behavior(Stepped.sleeper(5_000_000L, 5_000_000L)));
            s.fork("b");
            s.runFor(200_000_000L, 1_000_000L);
            assertTrue(a.sumExecRuntime() > 0);
            assertTrue(s.rq(0).nrSwitches() > 10, "ext -> ext and ext -> idle switches happened");
            assertEquals(List.of(), r.log, "neither ext -> ext nor ext -> idle is a release");
            assertFalse(s.rq(0).scx.lpCpuReleased());
        }
    }

    @Test
    void extToIdleIsNotARelease() {
        try (Stepped s = new Stepped(1)) {
            Rel r = loadRel(s);
            Task a = s.fork(new Kernel.TaskSpec().comm("a").behavior(Stepped.runThenExit(1_000_000L)));
            s.settle();
            assertEquals(a, s.rq(0).curr());
            s.stepUntil(0, 500_000L, 10, () -> s.rq(0).curr() == s.rq(0).idleTask());
            assertEquals(List.of(), r.log);
            assertFalse(s.rq(0).scx.lpCpuReleased());
            assertEquals(0, s.opCalls(ScxOp.CPU_ACQUIRE), "acquire only after a release");
        }
    }

    @Test
    void v7ReleasesForAHigherClassPickedAfterIdle() {
        // [v7] the check runs in scx_next_task_picked() for every pick by a class above ext,
        // including idle -> RT (6.12 only releases on an SCX -> non-SCX switch_class()).
        try (Stepped s = new Stepped(1)) {
            Rel r = loadRel(s);
            s.settle();
            Task rt = s.forkClass("rt", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            s.step(0);
            assertEquals(rt, s.rq(0).curr());
            assertEquals(List.of("release:0"), r.log);
            // RT exits, nothing to run: balance_scx() still runs and acquires
            s.stepUntil(0, 500_000L, 10, () -> s.rq(0).curr() == s.rq(0).idleTask());
            assertEquals(List.of("release:0", "acquire:0"), r.log);
        }
    }

    @ParameterizedTest
    @CsvSource({"-1, 2", "6, 1", "1, 0", "2, 0"})
    void reasonFollowsTheWinningClass(int policy, int reason) {
        try (Stepped s = new Stepped(1)) {
            Rel r = loadRel(s);
            extRunning(s);
            Task hi = s.forkClass("hi", policy, 0, Stepped.runThenExit(1_000_000L));
            assertEquals(policy < 0 ? SchedClass.STOP : policy == Task.SCHED_DEADLINE ? SchedClass.DL
                    : SchedClass.RT, hi.schedClass());
            s.step(0);
            assertEquals(hi, s.rq(0).curr());
            assertEquals(1, r.args.size());
            assertEquals(reason, r.args.get(0).reason());
            assertSame(hi, r.args.get(0).task());
            assertEquals(List.of(), r.ctxErrors);
        }
    }

    @Test
    void reasonConstantsAreTheSeeds() {
        assertEquals(0, SCX_CPU_PREEMPT_RT);
        assertEquals(1, SCX_CPU_PREEMPT_DL);
        assertEquals(2, SCX_CPU_PREEMPT_STOP);
        assertEquals(3, SCX_CPU_PREEMPT_UNKNOWN);
        assertEquals(SCX_CPU_PREEMPT_UNKNOWN, Ext.preemptReasonFromClass(SchedClass.FAIR));
        assertEquals(SCX_CPU_PREEMPT_STOP, Ext.preemptReasonFromClass(SchedClass.STOP));
    }

    @Test
    void cpuReleasedIsSetWithoutACpuReleaseOp() {
        try (Stepped s = new Stepped(1)) {
            List<Integer> acquired = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "acquire_only";
                }

                @Override
                public void cpuAcquire(int cpu, CpuAcquireArgs args) {
                    acquired.add(cpu);
                }
            }));
            assertTrue(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled(), "cpu_acquire alone turns the key on");
            Task a = extRunning(s);
            Task rt = s.forkClass("rt", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            s.step(0);
            assertEquals(rt, s.rq(0).curr());
            assertTrue(s.rq(0).scx.lpCpuReleased(), "cpu_released is set even with no cpu_release op");
            assertTrue(s.rq(0).scx.getCpuReleasedOpaque());
            assertEquals(0, s.opCalls(ScxOp.CPU_RELEASE));
            s.stepUntil(0, 500_000L, 10, () -> s.rq(0).curr() == a);
            assertEquals(List.of(0), acquired);
            assertFalse(s.rq(0).scx.lpCpuReleased());
        }
    }

    @Test
    void withoutEitherOpNothingIsTracked() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(() -> "no_preempt_ops"));
            assertFalse(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
            extRunning(s);
            Task rt = s.forkClass("rt", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            s.step(0);
            assertEquals(rt, s.rq(0).curr());
            assertFalse(s.rq(0).scx.lpCpuReleased(), "the static key is off: no release tracking");
        }
    }

    @Test
    void staticKeyFollowsLoadAndUnload() {
        assertFalse(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
        try (Stepped s = new Stepped(1)) {
            loadRel(s);
            assertTrue(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
            assertTrue(ScxKeys.HAS_CPU_RELEASE.enabled());
            assertTrue(ScxKeys.HAS_CPU_ACQUIRE.enabled());
            s.m.unload();
            assertFalse(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
            assertFalse(ScxKeys.HAS_CPU_RELEASE.enabled());
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "release_only";
                }

                @Override
                public void cpuRelease(int cpu, CpuReleaseArgs args) {
                }
            }));
            assertTrue(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
            s.m.unload();
            assertFalse(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
            assertEquals(0, s.load(() -> "neither"));
            assertFalse(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
        }
        assertFalse(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
    }

    @Test
    void staticKeyIsOffAfterAnErrorExit() {
        try (Stepped s = new Stepped(1)) {
            Rel r = new Rel() {
                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    scx_bpf_error("bye");
                    return prevCpu;
                }
            };
            assertEquals(0, s.load(r));
            assertTrue(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
            s.fork("t");
            assertEquals("ERROR_BPF", s.finishExit().kindName());
            assertFalse(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
        }
    }

    /** cpu_release re-enqueues the local DSQ; enqueue decides where REENQ tasks go. */
    private static class Reenq implements SchedExtOps {
        final List<Integer> counts = new ArrayList<>();
        final List<String> enq = new ArrayList<>();
        boolean toGlobal;

        @Override
        public String name() {
            return "reenq";
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            if ((enqFlags & SCX_ENQ_REENQ) != 0) {
                enq.add(p.comm + ":0x" + Long.toHexString(enqFlags));
                if (toGlobal) {
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, 0, enqFlags);
                    int cpu = scx_bpf_pick_idle_cpu(p.cpusPtr(), 0);
                    if (cpu >= 0) {
                        scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
                    }
                    return;
                }
            }
            // straight back to this CPU's local DSQ: the snapshot must bound the loop
            scx_bpf_dispatch(p, SCX_DSQ_LOCAL, 0, enqFlags);
        }

        @Override
        public void cpuRelease(int cpu, CpuReleaseArgs args) {
            counts.add(scx_bpf_reenqueue_local());
        }
    }

    @Test
    void reenqueueSnapshotBoundsTheLoopAndReenqReachesEnqueue() {
        try (Stepped s = new Stepped(1)) {
            Reenq r = new Reenq();
            assertEquals(0, s.load(r));
            Task a = s.fork("a");
            Task b = s.fork("b");
            Task c = s.fork("c");
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            assertEquals(List.of(b, c), s.local(0));
            Task rt = s.forkClass("rt", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            s.step(0);
            assertEquals(rt, s.rq(0).curr());
            assertEquals(List.of(3), r.counts, "the count is the snapshot of local_dsq.nr (a, b, c)");
            assertEquals(List.of("a:0x10000000000", "b:0x10000000000", "c:0x10000000000"), r.enq,
                    "each task once, with exactly SCX_ENQ_REENQ");
            assertEquals(List.of(a, b, c), s.local(0), "dispatched back to SCX_DSQ_LOCAL: order kept");
            assertEquals(3, s.k.reenqueuedTasks());
            assertEquals(1, s.kfuncCalls(Kfunc.REENQUEUE_LOCAL));
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            // they run again once the CPU comes back
            s.stepUntil(0, 500_000L, 10, () -> s.rq(0).curr() == a);
        }
    }

    @Test
    void reenqueuedTasksMoveToAnotherCpu() {
        try (Stepped s = new Stepped(2)) {
            Reenq r = new Reenq();
            r.toGlobal = true;
            assertEquals(0, s.load(r));
            Task blocker = s.forkClass("blocker", Task.SCHED_NORMAL, 1, Stepped.runThenExit(1_000_000L));
            Task a = s.forkPinned("a", 0);
            Task b = s.fork(new Kernel.TaskSpec().comm("b").cpu(0).behavior(Behavior.cpuBound(1_000_000L)));
            s.settle();
            assertEquals(a, s.rq(0).curr());
            assertEquals(blocker, s.rq(1).curr());
            assertEquals(List.of(b), s.local(0), "no idle CPU when b woke: it queued behind a");
            // CPU 1 becomes free, then an RT task takes CPU 0
            s.stepUntil(1, 500_000L, 10, () -> s.rq(1).curr() == s.rq(1).idleTask());
            s.forkClass("rt", Task.SCHED_FIFO, 0, Stepped.runThenExit(50_000_000L));
            s.step(0);
            assertEquals(List.of(2), r.counts);
            assertTrue(s.local(0).isEmpty(), "nothing stranded behind the RT task");
            assertEquals(List.of(a, b), s.global());
            s.settle(); // CPU 0's irq work kicks the idle CPU 1, which pulls b
            assertEquals(b, s.rq(1).curr(), "b (allowed on CPU 1) runs there while CPU 0 runs RT");
            assertEquals(List.of(a), s.global(), "a is pinned to CPU 0 and waits");
        }
    }

    /**
     * The situation the seed exists for: tasks waiting on the local DSQ of a CPU an RT task took
     * are stranded until the watchdog fires, unless cpu_release() re-enqueues them elsewhere.
     */
    @ParameterizedTest
    @CsvSource({"false", "true"})
    void strandedTasksStallWithoutCpuReleaseAndRunElsewhereWithIt(boolean withRelease) {
        try (Stepped s = new Stepped(2)) {
            SchedExtOps sched = new Reenq() {
                @Override
                public String name() {
                    return withRelease ? "with_release" : "no_release";
                }

                @Override
                public int timeoutMs() {
                    return 500;
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return 0;
                }
            };
            ((Reenq) sched).toGlobal = true;
            SchedExtOps noRelease = new SchedExtOps() {
                @Override
                public String name() {
                    return "no_release";
                }

                @Override
                public int timeoutMs() {
                    return 500;
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return 0;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_dispatch(p, SCX_DSQ_LOCAL, 0, enqFlags);
                }
            };
            assertEquals(0, s.load(withRelease ? sched : noRelease));
            Task a = s.fork("a");
            Task b = s.fork("b");
            s.settle();
            assertEquals(a, s.rq(0).curr());
            assertEquals(List.of(b), s.local(0));
            s.forkClass("rt", Task.SCHED_FIFO, 0, Behavior.cpuBound(1_000_000L));
            for (int i = 0; i < 35; i++) {
                s.runFor(20_000_000L, 1_000_000L);
                if (s.ext.watchdogWorkfn()) {
                    break;
                }
            }
            ExitInfo ei = s.finishExit();
            if (withRelease) {
                assertEquals(SCX_EXIT_NONE, s.ext.exitKind(), ei.msg());
                assertTrue(a.sumExecRuntime() > 100_000_000L && b.sumExecRuntime() > 100_000_000L,
                        "a and b ran on CPU 1 while CPU 0 ran RT");
            } else {
                assertEquals("ERROR_STALL", ei.kindName());
                assertTrue(ei.msg().matches("^[ab]\\[\\d+\\] failed to run for \\d+\\.\\d{3}s$"), ei.msg());
            }
        }
    }

    @Test
    void dumpShowsCpuRel() {
        try (Stepped s = new Stepped(1)) {
            loadRel(s);
            extRunning(s);
            s.forkClass("rt", Task.SCHED_FIFO, 0, Behavior.cpuBound(1_000_000L));
            s.step(0);
            assertTrue(s.rq(0).scx.lpCpuReleased());
            s.ext.scxOpsError("test error %d", 1);
            String dump = s.finishExit().dump();
            assertTrue(Pattern.compile("(?m)^CPU 0   : nr_run=\\d+ flags=0x[0-9a-f]+ cpu_rel=1 ops_qseq=\\d+ "
                    + "pnt_seq=\\d+$").matcher(dump).find(), dump);
            assertTrue(dump.contains("curr=rt["), dump);
        }
    }
}
