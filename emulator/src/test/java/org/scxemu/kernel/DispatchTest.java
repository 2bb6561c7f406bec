// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/**
 * The dispatch path: the dispatch buffer (max batch, nr_slots, cancel), the 32-round dispatch
 * loop guard, remote dispatch with SCX_DSQ_LOCAL_ON, consume.
 */
class DispatchTest {

    /** Keeps tasks in a FIFO; dispatch() is up to the test. */
    private abstract static class Queueing implements SchedExtOps {
        final ArrayDeque<Task> q = new ArrayDeque<>();
        int maxBatch;
        int dispatchCalls;

        @Override
        public String name() {
            return "dispatch_test";
        }

        @Override
        public int dispatchMaxBatch() {
            return maxBatch;
        }

        @Override
        public int selectCpu(Task p, int prevCpu, long wakeFlags) {
            return prevCpu;
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            q.add(p);
        }
    }

    @Test
    void moreThanMaxBatchDispatchesOverflow() {
        try (Stepped s = new Stepped(1)) {
            Queueing sched = new Queueing() {
                @Override
                public void dispatch(int cpu, Task prev) {
                    Task p;
                    while ((p = q.poll()) != null) {
                        scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
                    }
                }
            };
            sched.maxBatch = 2;
            assertEquals(0, s.load(sched));
            s.fork("a");
            s.fork("b");
            s.fork("c");
            s.step(0);
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("dispatch buffer overflow", ei.msg());
        }
    }

    @Test
    void maxBatchDispatchesFit() {
        try (Stepped s = new Stepped(1)) {
            Queueing sched = new Queueing() {
                @Override
                public void dispatch(int cpu, Task prev) {
                    Task p;
                    while (scx_bpf_dispatch_nr_slots() > 0 && (p = q.poll()) != null) {
                        scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
                    }
                }
            };
            sched.maxBatch = 2;
            assertEquals(0, s.load(sched));
            Task a = s.fork("a");
            Task b = s.fork("b");
            Task c = s.fork("c");
            s.step(0);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertEquals(a, s.rq(0).curr());
            assertEquals(List.of(b), s.local(0));
            assertEquals(List.of(c), new ArrayList<>(sched.q));
        }
    }

    @Test
    void nrSlotsAndCancel() {
        try (Stepped s = new Stepped(1)) {
            List<Integer> slots = new ArrayList<>();
            Queueing sched = new Queueing() {
                @Override
                public void dispatch(int cpu, Task prev) {
                    if (++dispatchCalls > 1) {
                        return;
                    }
                    slots.add(scx_bpf_dispatch_nr_slots());
                    Task p = q.peek();
                    scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
                    slots.add(scx_bpf_dispatch_nr_slots());
                    scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
                    slots.add(scx_bpf_dispatch_nr_slots());
                    scx_bpf_dispatch_cancel();
                    scx_bpf_dispatch_cancel();
                    slots.add(scx_bpf_dispatch_nr_slots());
                }
            };
            sched.maxBatch = 4;
            assertEquals(0, s.load(sched));
            Task a = s.fork("a");
            s.step(0);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertEquals(List.of(4, 3, 2, 4), slots);
            // the cancelled dispatches never happened: a still belongs to the BPF scheduler
            assertEquals(s.rq(0).idleTask(), s.rq(0).curr());
            assertEquals(SCX_OPSS_QUEUED, a.scx.opsState() & SCX_OPSS_STATE_MASK);
            assertTrue(s.local(0).isEmpty());
            assertEquals(1, sched.dispatchCalls, "nothing was flushed: the loop does not repeat");
        }
    }

    @Test
    void defaultMaxBatchIs32() {
        try (Stepped s = new Stepped(1)) {
            List<Integer> slots = new ArrayList<>();
            Queueing sched = new Queueing() {
                @Override
                public void dispatch(int cpu, Task prev) {
                    slots.add(scx_bpf_dispatch_nr_slots());
                }
            };
            assertEquals(0, s.load(sched));
            s.fork("a");
            s.step(0);
            assertEquals(List.of(32), slots);
        }
    }

    @Test
    void cancelOnEmptyBufferUnderflows() {
        try (Stepped s = new Stepped(1)) {
            Queueing sched = new Queueing() {
                @Override
                public void dispatch(int cpu, Task prev) {
                    scx_bpf_dispatch_cancel();
                }
            };
            assertEquals(0, s.load(sched));
            s.fork("a");
            s.step(0);
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("dispatch buffer underflow", ei.msg());
        }
    }

    @Test
    void dispatchLoopIsBoundedAt32RoundsAndTheCpuKicksItself() {
        try (Stepped s = new Stepped(2)) {
            Task[] victim = new Task[1];
            int[] calls = new int[2];
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "dsp_loop";
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    calls[cpu]++;
                    // qmap -l: keep dispatching a task that is running elsewhere. It is
                    // dropped at flush, but the round counts as progress.
                    if (victim[0] != null) {
                        scx_bpf_dispatch(victim[0], SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
                    }
                }
            }));
            victim[0] = s.forkPinned("victim", 1);
            s.step(1);
            assertEquals(victim[0], s.rq(1).curr());
            calls[0] = 0;
            Rq rq0 = s.rq(0);
            s.resched(0);
            s.step(0);
            assertEquals(SCX_DSP_MAX_LOOPS, calls[0]);
            assertEquals(rq0.idleTask(), rq0.curr());
            assertTrue(rq0.ctx.kickPending, "the CPU did not kick itself");
            assertTrue(ExecCtx.testBit(rq0.ctx.cpusToKick, 0));
            assertEquals(victim[0], s.rq(1).curr(), "the stale dispatch moved the running task");
            // the self-kick reschedules the CPU: another bounded round of dispatches
            s.step(0);
            assertEquals(2 * SCX_DSP_MAX_LOOPS, calls[0]);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void dispatchGetsPrevOnlyWhenItIsAnExtTask() {
        try (Stepped s = new Stepped(1)) {
            List<String> prevs = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "dsp_prev";
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    prevs.add(prev == null ? "null" : prev.comm);
                }
            }));
            s.settle(); // the reschedule every CPU got at load: prev is the idle task
            assertEquals(List.of("null"), prevs);
            Task a = s.fork("a");
            s.settle();
            assertEquals(a, s.rq(0).curr());
            s.stepUntil(0, 1_000_000L, 30, () -> prevs.size() > 1);
            assertEquals(List.of("null", "a"), prevs, "an expiring ext task is passed as prev");
            s.settle();
            assertEquals(a, s.rq(0).curr(), "[v7] the last task without SCX_OPS_ENQ_LAST stays");
        }
    }

    @Test
    void dispatchLoopStopsWhenNothingIsDispatched() {
        try (Stepped s = new Stepped(1)) {
            int[] calls = new int[1];
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "dsp_once";
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    calls[0]++;
                }
            }));
            s.resched(0);
            s.step(0);
            assertEquals(1, calls[0]);
            assertFalse(s.rq(0).ctx.kickPending);
        }
    }

    @Test
    void localOnDispatchMovesTheTaskToTheTargetCpu() {
        try (Stepped s = new Stepped(2)) {
            Queueing sched = new Queueing() {
                @Override
                public void dispatch(int cpu, Task prev) {
                    Task p = q.poll();
                    if (p != null) {
                        scx_bpf_dispatch(p, SCX_DSQ_LOCAL_ON | 1, SCX_SLICE_DFL, 0);
                    }
                }
            };
            assertEquals(0, s.load(sched));
            Task p = s.fork("p"); // enqueued on CPU 0's rq
            assertEquals(0, p.cpu());
            s.step(0);
            assertEquals(1, p.cpu(), "task_cpu() follows the move");
            assertEquals(List.of(p), s.local(1));
            assertTrue(s.rq(1).needResched(), "an idle target is rescheduled");
            assertEquals(SCX_OPSS_NONE, p.scx.opsState() & SCX_OPSS_STATE_MASK);
            assertEquals(-1, p.scx.holdingCpu());
            s.step(1);
            assertEquals(p, s.rq(1).curr());
            assertEquals(s.rq(0).idleTask(), s.rq(0).curr());
        }
    }

    @Test
    void localOnDispatchToADisallowedCpuIsAnError() {
        try (Stepped s = new Stepped(2)) {
            Queueing sched = new Queueing() {
                @Override
                public void dispatch(int cpu, Task prev) {
                    Task p = q.poll();
                    if (p != null) {
                        scx_bpf_dispatch(p, SCX_DSQ_LOCAL_ON | 1, SCX_SLICE_DFL, 0);
                    }
                }
            };
            assertEquals(0, s.load(sched));
            Task p = s.forkPinned("pinned", 0);
            s.step(0);
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            // v7 (and 6.12): "verdict target cpu"; the "target CPU %d" text is from later kernels
            assertEquals("SCX_DSQ_LOCAL[_ON] verdict target cpu 1 not allowed for pinned[" + p.pid + "]", ei.msg());
        }
    }

    @Test
    void localOnDispatchToAnInvalidCpuIsAnError() {
        try (Stepped s = new Stepped(2)) {
            Queueing sched = new Queueing() {
                @Override
                public void dispatch(int cpu, Task prev) {
                    Task p = q.poll();
                    if (p != null) {
                        scx_bpf_dispatch(p, SCX_DSQ_LOCAL_ON | 7, SCX_SLICE_DFL, 0);
                    }
                }
            };
            assertEquals(0, s.load(sched));
            s.fork("p");
            s.step(0);
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("invalid CPU 7 in SCX_DSQ_LOCAL_ON dispatch verdict", ei.msg());
        }
    }

    @Test
    void localOnIsRejectedAsADirectDispatchVerdictInV7() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "ddsp_local_on";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_dispatch(p, SCX_DSQ_LOCAL_ON | 1, SCX_SLICE_DFL, enqFlags);
                }
            }));
            s.fork("p");
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("SCX_DSQ_LOCAL_ON can't be used for direct-dispatch", ei.msg());
        }
    }

    @Test
    void consumePullsFromAnotherCpusRq() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "consume";
                }

                @Override
                public int init() {
                    return scx_bpf_create_dsq(9, -1);
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return 0;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_dispatch(p, 9, SCX_SLICE_DFL, enqFlags);
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    scx_bpf_consume(9);
                }
            }));
            Task p = s.fork("p");
            assertEquals(0, p.cpu());
            s.resched(1);
            s.step(1);
            assertEquals(p, s.rq(1).curr());
            assertEquals(1, p.cpu());
            assertEquals(0, s.userDsq(9).readOnceNr());
            assertEquals(0, s.rq(0).scx.nrRunning);
            assertEquals(1, s.rq(1).scx.nrRunning);
        }
    }

    @Test
    void consumeSkipsTasksThatCannotRunHere() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "consume_skip";
                }

                @Override
                public int init() {
                    return scx_bpf_create_dsq(9, -1);
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_dispatch(p, 9, SCX_SLICE_DFL, enqFlags);
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    scx_bpf_consume(9);
                }
            }));
            Task pinned = s.forkPinned("pinned", 1);
            Task free = s.fork("free");
            assertEquals(List.of(pinned, free), Stepped.dsqTasks(s.userDsq(9)));
            s.resched(0);
            s.step(0);
            assertEquals(free, s.rq(0).curr(), "the first task CPU 0 may run");
            assertEquals(List.of(pinned), Stepped.dsqTasks(s.userDsq(9)));
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind(), "skipping is not an error");
            s.resched(1);
            s.step(1);
            assertEquals(pinned, s.rq(1).curr());
        }
    }

    @Test
    void twoCpusDispatchingTheSameTaskOnlyOneWins() {
        try (Stepped s = new Stepped(2)) {
            Task[] p = new Task[1];
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "race";
                }

                @Override
                public int selectCpu(Task t, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }

                @Override
                public void enqueue(Task t, long enqFlags) {
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    if (p[0] != null) {
                        scx_bpf_dispatch(p[0], SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
                    }
                }
            }));
            p[0] = s.fork("p");
            s.settle();
            int on0 = s.rq(0).curr() == p[0] ? 1 : 0;
            int on1 = s.rq(1).curr() == p[0] ? 1 : 0;
            assertEquals(1, on0 + on1, "exactly one CPU runs p");
            assertTrue(s.local(0).isEmpty() && s.local(1).isEmpty());
            assertEquals(SCX_OPSS_NONE, p[0].scx.opsState() & SCX_OPSS_STATE_MASK);
        }
    }

    @Test
    void directDispatchToLocalUsesTheSelectedCpu() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "ddsp_local";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
                    return 1;
                }
            }));
            Task p = s.fork("p");
            assertEquals(1, p.cpu());
            assertEquals(List.of(p), s.local(1));
            assertTrue(s.local(0).isEmpty());
        }
    }

    @Test
    void enqPreemptOnALocalDsqPreemptsTheCurrentTask() {
        try (Stepped s = new Stepped(1)) {
            List<Task> enq = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "enq_preempt";
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    enq.add(p);
                    scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, p.comm.equals("urgent") ? SCX_ENQ_PREEMPT : 0);
                }
            }));
            Task a = s.fork("a");
            s.settle();
            Task b = s.fork("b");
            assertEquals(List.of(b), s.local(0));
            assertFalse(s.rq(0).needResched(), "a plain insertion does not preempt a running ext task");
            assertTrue(a.scx.slice > 0);
            Task urgent = s.fork("urgent");
            assertEquals(List.of(urgent, b), s.local(0), "SCX_ENQ_PREEMPT inserts at the head");
            assertEquals(0, a.scx.slice);
            assertTrue(s.rq(0).needResched());
            s.step(0);
            assertEquals(urgent, s.rq(0).curr());
            assertEquals(List.of(b, urgent, a), enq, "the preempted task went through ops.enqueue()");
        }
    }

    @Test
    void consumeOfABuiltinDsqOtherThanGlobalIsAnError() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "consume_local";
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    scx_bpf_consume(SCX_DSQ_LOCAL);
                }
            }));
            s.resched(0);
            s.step(0);
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("invalid DSQ ID 0x8000000000000002", ei.msg());
        }
    }

    @Test
    void invalidEnqFlagsAreAnError() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "bad_flags";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, SCX_ENQ_CLEAR_OPSS);
                    return prevCpu;
                }
            }));
            s.fork("p");
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("invalid enq_flags 0x100000000000000", ei.msg());
        }
    }

    @Test
    void dispatchSliceIsWrittenImmediately() {
        try (Stepped s = new Stepped(1)) {
            long[] seen = new long[1];
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "slice";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    p.scx.slice = 0;
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, 0, 0);
                    seen[0] = p.scx.slice;
                    return prevCpu;
                }
            }));
            s.fork("p");
            assertEquals(1, seen[0], "slice 0 keeps the old slice, or 1 ns if that was 0 too");
        }
    }
}
