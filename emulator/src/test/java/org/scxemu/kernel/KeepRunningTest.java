// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/**
 * Keep-running and put_prev_task_scx() [v7]: a task with slice left keeps the CPU; preempted by a
 * higher class it goes back to the head of its local DSQ; an expired one goes through
 * ops.enqueue(); the last runnable task gets SCX_ENQ_LAST when SCX_OPS_ENQ_LAST is set.
 */
class KeepRunningTest {

    /** Records enqueues and sends every task to the local DSQ of its CPU. */
    static class LocalSched implements SchedExtOps {
        final List<Task> enqTasks = new ArrayList<>();
        final List<Long> enqFlags = new ArrayList<>();
        final List<String> events = new ArrayList<>();
        long opsFlags;

        @Override
        public String name() {
            return "local";
        }

        @Override
        public long flags() {
            return opsFlags;
        }

        @Override
        public void enqueue(Task p, long flags) {
            enqTasks.add(p);
            enqFlags.add(flags);
            scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
        }

        @Override
        public void running(Task p) {
            events.add("running:" + p.comm);
        }

        @Override
        public void stopping(Task p, boolean runnable) {
            events.add("stopping:" + p.comm + ":" + runnable);
        }
    }

    /** One CPU: a runs (directly dispatched to the idle CPU), b waits on the local DSQ. */
    static Task[] twoTasks(Stepped s) {
        Task a = s.fork("a");
        Task b = s.fork("b");
        s.step(0);
        assertEquals(a, s.rq(0).curr());
        assertEquals(List.of(b), s.local(0));
        return new Task[] {a, b};
    }

    @Test
    void taskWithSliceLeftKeepsTheCpu() {
        try (Stepped s = new Stepped(1)) {
            LocalSched sched = new LocalSched();
            assertEquals(0, s.load(sched));
            Task[] t = twoTasks(s);
            sched.enqTasks.clear();
            // a reschedule that is not an expiry (e.g. a kick without PREEMPT): a keeps running
            for (int i = 0; i < 5; i++) {
                s.clock.advance(1_000_000L);
                s.resched(0);
                s.step(0);
                assertEquals(t[0], s.rq(0).curr());
            }
            assertTrue(sched.enqTasks.isEmpty(), "a kept task does not go through ops.enqueue()");
            assertTrue(t[0].scx.slice < SCX_SLICE_DFL && t[0].scx.slice > 0, "slice is charged: " + t[0].scx.slice);
            // [v7]: a kept task still goes through stopping -> running on every reschedule
            assertTrue(sched.events.contains("stopping:a:true"), sched.events.toString());
            assertEquals(List.of(t[1]), s.local(0));
        }
    }

    @Test
    void preemptedByAHigherClassGoesBackToTheHeadOfTheLocalDsq() {
        try (Stepped s = new Stepped(1)) {
            LocalSched sched = new LocalSched();
            assertEquals(0, s.load(sched));
            Task[] t = twoTasks(s);
            sched.enqTasks.clear();
            s.clock.advance(2_000_000L);
            Task rt = s.forkClass("rt", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            s.step(0);
            assertEquals(rt, s.rq(0).curr());
            assertEquals(List.of(t[0], t[1]), s.local(0), "the preempted task is at the head");
            long slice = t[0].scx.slice;
            assertTrue(slice > 0 && slice < SCX_SLICE_DFL, "slice charged, not refilled: " + slice);
            s.stepUntil(0, 500_000L, 20, () -> s.rq(0).curr() != rt);
            assertEquals(t[0], s.rq(0).curr(), "the preempted task runs before the one behind it");
            assertEquals(slice, t[0].scx.slice, "its remaining slice is kept");
            assertTrue(sched.enqTasks.isEmpty(), "no ops.enqueue() for a preempted task with slice left");
        }
    }

    @Test
    void expiredTaskGoesThroughEnqueue() {
        try (Stepped s = new Stepped(1)) {
            LocalSched sched = new LocalSched();
            assertEquals(0, s.load(sched));
            Task[] t = twoTasks(s);
            sched.enqTasks.clear();
            sched.enqFlags.clear();
            s.stepUntil(0, 1_000_000L, 40, () -> s.rq(0).curr() != t[0]);
            assertEquals(t[1], s.rq(0).curr());
            assertEquals(List.of(t[0]), sched.enqTasks);
            assertEquals(0, sched.enqFlags.get(0) & SCX_ENQ_LAST, "b was still queued: not the last task");
            assertEquals(List.of(t[0]), s.local(0));
        }
    }

    @Test
    void yieldedTaskGoesThroughEnqueue() {
        try (Stepped s = new Stepped(1)) {
            LocalSched sched = new LocalSched();
            assertEquals(0, s.load(sched));
            boolean[] yielded = new boolean[1];
            Task a = s.fork(new Kernel.TaskSpec().comm("a").behavior((self, step, now) -> {
                if (!yielded[0]) {
                    yielded[0] = true;
                    step.yield();
                } else {
                    step.run(1_000_000L);
                }
            }));
            Task b = s.fork("b");
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            s.stepUntil(0, 0, 5, () -> s.rq(0).curr() == b); // a's behaviour: sched_yield()
            assertEquals(List.of(b, a), sched.enqTasks);
        }
    }

    @Test
    void lastTaskGetsEnqLastWithScxOpsEnqLast() {
        try (Stepped s = new Stepped(1)) {
            LocalSched sched = new LocalSched();
            sched.opsFlags = SCX_OPS_ENQ_LAST;
            assertEquals(0, s.load(sched));
            Task a = s.fork("a");
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            assertTrue(sched.enqTasks.isEmpty());
            s.stepUntil(0, 1_000_000L, 40, () -> !sched.enqTasks.isEmpty());
            assertEquals(List.of(a), sched.enqTasks);
            assertEquals(SCX_ENQ_LAST, sched.enqFlags.get(0) & SCX_ENQ_LAST);
            // the scheduler put it back on the local DSQ: it keeps running
            s.settle();
            assertEquals(a, s.rq(0).curr());
            assertEquals(SCX_SLICE_DFL, a.scx.slice, "refilled by the scheduler's dispatch");
        }
    }

    @Test
    void lastTaskWithoutScxOpsEnqLastStaysLocalWithoutEnqueue() {
        try (Stepped s = new Stepped(1)) {
            LocalSched sched = new LocalSched();
            assertEquals(0, s.load(sched));
            Task a = s.fork("a");
            s.step(0);
            for (int i = 0; i < 60; i++) {
                s.clock.advance(1_000_000L);
                s.step(0);
                assertEquals(a, s.rq(0).curr());
            }
            assertTrue(sched.enqTasks.isEmpty(), "[v7] SCX_ENQ_LAST without SCX_OPS_ENQ_LAST goes local");
            assertTrue(a.sumExecRuntime() >= 50_000_000L);
        }
    }

    @Test
    void tickChargesTheSliceAndExpiryReschedules() {
        try (Stepped s = new Stepped(1)) {
            List<Long> ticks = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "ticker";
                }

                @Override
                public void tick(Task p) {
                    ticks.add(p.scx.slice);
                    if (p.scx.slice <= 15_000_000L) {
                        p.scx.slice = 0; // the scheduler preempts from ops.tick()
                    }
                }
            }));
            Task a = s.fork("a");
            Task b = s.fork("b");
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            s.stepUntil(0, 1_000_000L, 30, () -> s.rq(0).curr() == b);
            assertTrue(ticks.size() >= 5, ticks.toString());
            for (int i = 1; i < ticks.size(); i++) {
                assertTrue(ticks.get(i) < ticks.get(i - 1), "slice charged at each tick: " + ticks);
            }
        }
    }

    @Test
    void zeroSliceAtPickIsRefilledWithAOneTimeWarning() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "zero_slice";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }

                @Override
                public void enqueue(Task p, long flags) {
                    scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
                    p.scx.slice = 0; // BPF-writable; the kernel repairs it at pick
                }
            }));
            Task a = s.fork("a");
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            assertEquals(SCX_SLICE_DFL, a.scx.slice);
            Task b = s.fork("b");
            s.stepUntil(0, 1_000_000L, 40, () -> s.rq(0).curr() == b);
            long warnings = s.ext.dmesg().stream().filter(l -> l.contains("has zero slice in pick_next_task_scx()"))
                    .count();
            assertEquals(1, warnings, s.ext.dmesg().toString());
            assertTrue(s.ext.dmesg().contains("sched_ext: a[" + a.pid + "] has zero slice in pick_next_task_scx()"),
                    s.ext.dmesg().toString());
        }
    }

    @Test
    void kickPreemptZeroesTheSliceOfTheTarget() {
        try (Stepped s = new Stepped(2)) {
            boolean[] kick = new boolean[1];
            List<Task> enq = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "kicker";
                }

                @Override
                public void enqueue(Task p, long flags) {
                    enq.add(p);
                    scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    if (kick[0] && cpu == 1) {
                        kick[0] = false;
                        scx_bpf_kick_cpu(0, SCX_KICK_PREEMPT);
                    }
                }
            }));
            Task a = s.forkPinned("a", 0);
            Task b = s.forkPinned("b", 0);
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            assertTrue(a.scx.slice > 0);
            kick[0] = true;
            s.resched(1);
            s.step(1); // CPU 1's dispatch() kicks CPU 0; the kick is queued until the op returns
            assertTrue(a.scx.slice > 0, "the kick happens after the op returns, on the irq work");
            assertTrue(s.rq(1).ctx.kickPending);
            s.step(1); // CPU 1's irq work
            assertEquals(0, a.scx.slice);
            assertTrue(s.rq(0).needResched());
            s.step(0);
            assertEquals(b, s.rq(0).curr(), "the preempted task lost the CPU");
            assertTrue(enq.contains(a), "with no slice left it went through ops.enqueue()");
        }
    }
}
