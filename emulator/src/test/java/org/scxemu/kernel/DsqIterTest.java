// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.BpfTimer;
import org.scxemu.scx.SchedExtOps;

/**
 * 6.12's DSQ iterator and scx_bpf_dispatch_from_dsq() family: what a walk sees (order, REV, tasks
 * queued after it began, tasks leaving under it), the moves and their rules, the calling contexts.
 */
class DsqIterTest {
    static final long Q = 0x10;
    static final long Q2 = 0x11;

    /**
     * Every task goes to Q: FIFO, at the head for comms starting with "head", in vtime order for
     * comms with a vtime. ops.dispatch() runs {@code onDispatch} (nothing by default), so tasks
     * stay on Q until a test moves them.
     */
    static class IterSched implements SchedExtOps {
        final Map<String, Long> vtime = new HashMap<>();
        volatile IntConsumer onDispatch;

        @Override
        public String name() {
            return "dsq_iter_test";
        }

        @Override
        public int init() {
            scx_bpf_create_dsq(Q, -1);
            scx_bpf_create_dsq(Q2, -1);
            return 0;
        }

        @Override
        public int selectCpu(Task p, int prevCpu, long wakeFlags) {
            return prevCpu;
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            Long v = vtime.get(p.comm);
            if (v != null) {
                scx_bpf_dispatch_vtime(p, Q, SCX_SLICE_DFL, v, 0);
            } else {
                scx_bpf_dispatch(p, Q, SCX_SLICE_DFL, p.comm.startsWith("head") ? SCX_ENQ_HEAD : 0);
            }
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            IntConsumer d = onDispatch;
            if (d != null) {
                d.accept(cpu);
            }
        }
    }

    private static Stepped machine(int cpus, IterSched sched) {
        Stepped s = new Stepped(cpus, CoreProfile.V6_12);
        assertEquals(0, s.load(sched));
        return s;
    }

    private static List<String> walk(long dsq, long flags) {
        List<String> out = new ArrayList<>();
        for (Task p : bpf_for_each_scx_dsq(dsq, flags)) {
            out.add(p.comm);
        }
        return out;
    }

    private static List<String> comms(List<Task> l) {
        List<String> out = new ArrayList<>();
        for (Task p : l) {
            out.add(p.comm);
        }
        return out;
    }

    @Test
    void walksInDsqOrderAndInReverse() {
        try (Stepped s = machine(1, new IterSched())) {
            s.fork("a");
            s.fork("b");
            s.fork("head1");
            s.fork("c");
            assertEquals(List.of("head1", "a", "b", "c"), walk(Q, 0));
            assertEquals(List.of("c", "b", "a", "head1"), walk(Q, SCX_DSQ_ITER_REV));
            assertEquals(List.of(), walk(Q2, 0), "an empty DSQ");
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            // one new and five nexts per forward walk of four (the last next says "end")
            assertEquals(3, s.kfuncCalls(Kfunc.ITER_SCX_DSQ_NEW));
            assertEquals(5 + 5 + 1, s.kfuncCalls(Kfunc.ITER_SCX_DSQ_NEXT));
        }
    }

    @Test
    void newRefusesBuiltinAndUnknownDsqsAndBadFlags() {
        try (Stepped s = machine(2, new IterSched())) {
            Task a = s.fork("a");
            DsqIter it = new DsqIter();
            assertEquals(-ENOENT, bpf_iter_scx_dsq_new(it, SCX_DSQ_GLOBAL, 0), "6.12 walks user DSQs only");
            assertNull(bpf_iter_scx_dsq_next(it), "a failed new() leaves an empty walk");
            assertFalse(scx_bpf_dispatch_from_dsq(it, a, Q2, 0), "no DSQ to move from");
            assertEquals(-ENOENT, bpf_iter_scx_dsq_new(it, SCX_DSQ_LOCAL, 0));
            assertEquals(-ENOENT, bpf_iter_scx_dsq_new(it, SCX_DSQ_LOCAL_ON | 1, 0));
            assertEquals(-ENOENT, bpf_iter_scx_dsq_new(it, 0x999, 0));
            assertEquals(-EINVAL, bpf_iter_scx_dsq_new(it, Q, 1L << 3));
            assertEquals(-EINVAL, bpf_iter_scx_dsq_new(it, Q, __SCX_DSQ_ITER_HAS_SLICE));
            assertNull(bpf_iter_scx_dsq_next(it));
            assertEquals(0, bpf_iter_scx_dsq_new(it, Q, SCX_DSQ_ITER_REV));
            assertEquals("a", bpf_iter_scx_dsq_next(it).comm);
            bpf_iter_scx_dsq_destroy(it);
            assertNull(bpf_iter_scx_dsq_next(it), "nothing after destroy()");
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void skipsTasksQueuedAfterTheWalkBegan() {
        try (Stepped s = machine(1, new IterSched())) {
            s.fork("a");
            s.fork("b");
            DsqIter it = new DsqIter();
            assertEquals(0, bpf_iter_scx_dsq_new(it, Q, 0));
            s.fork("headX"); // before the walk's first task, but queued after it began
            assertEquals("a", bpf_iter_scx_dsq_next(it).comm);
            s.fork("c"); // after the cursor, queued after the walk began
            s.fork("headY");
            assertEquals("b", bpf_iter_scx_dsq_next(it).comm);
            assertNull(bpf_iter_scx_dsq_next(it));
            assertEquals(List.of("headY", "headX", "a", "b", "c"), comms(Stepped.dsqTasks(s.userDsq(Q))));
            assertEquals(List.of("headY", "headX", "a", "b", "c"), walk(Q, 0), "a new walk sees them");
            // reverse: tasks added at the tail during the walk are skipped the same way
            DsqIter rev = new DsqIter();
            assertEquals(0, bpf_iter_scx_dsq_new(rev, Q, SCX_DSQ_ITER_REV));
            s.fork("d");
            assertEquals("c", bpf_iter_scx_dsq_next(rev).comm);
            bpf_iter_scx_dsq_destroy(rev);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void keepsItsPlaceWhenTasksLeaveUnderIt() {
        try (Stepped s = machine(1, new IterSched())) {
            Task a0 = s.fork("a");
            Task b = s.fork("b");
            for (String c : new String[] {"c", "d", "e"}) {
                s.fork(c);
            }
            DsqIter it = new DsqIter();
            assertEquals(0, bpf_iter_scx_dsq_new(it, Q, 0));
            Task a = bpf_iter_scx_dsq_next(it);
            assertSame(a0, a);
            // the task the walk stands on and the next one both leave (an unlocked context)
            assertTrue(scx_bpf_dispatch_from_dsq(it, a, Q2, 0));
            assertTrue(scx_bpf_dispatch_from_dsq(it, b, Q2, 0));
            assertFalse(scx_bpf_dispatch_from_dsq(it, a, Q2, 0), "a already left Q");
            s.fork("f"); // queued after the walk began: skipped
            assertEquals("c", bpf_iter_scx_dsq_next(it).comm);
            assertEquals("d", bpf_iter_scx_dsq_next(it).comm);
            assertEquals("e", bpf_iter_scx_dsq_next(it).comm);
            assertNull(bpf_iter_scx_dsq_next(it));
            assertEquals(List.of("c", "d", "e", "f"), comms(Stepped.dsqTasks(s.userDsq(Q))));
            assertEquals(List.of("a", "b"), comms(Stepped.dsqTasks(s.userDsq(Q2))));

            // reverse: the task the walk stands on leaves and comes back (a new insertion)
            DsqIter rev = new DsqIter();
            assertEquals(0, bpf_iter_scx_dsq_new(rev, Q, SCX_DSQ_ITER_REV));
            assertEquals("f", bpf_iter_scx_dsq_next(rev).comm);
            Task e = bpf_iter_scx_dsq_next(rev);
            assertEquals("e", e.comm);
            DsqIter back = new DsqIter();
            assertEquals(0, bpf_iter_scx_dsq_new(back, Q, 0));
            assertTrue(scx_bpf_dispatch_from_dsq(back, e, Q2, 0));
            DsqIter again = new DsqIter();
            assertEquals(0, bpf_iter_scx_dsq_new(again, Q2, 0));
            assertTrue(scx_bpf_dispatch_from_dsq(again, e, Q, 0), "e back on Q, at its tail");
            assertEquals("d", bpf_iter_scx_dsq_next(rev).comm);
            assertEquals("c", bpf_iter_scx_dsq_next(rev).comm);
            assertNull(bpf_iter_scx_dsq_next(rev));
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void walksAVtimeDsqInVtimeOrderAndKeepsItsPlace() {
        IterSched sched = new IterSched();
        sched.vtime.put("a", 30L);
        sched.vtime.put("b", 10L);
        sched.vtime.put("c", 20L);
        sched.vtime.put("d", 20L);
        sched.vtime.put("e", 15L);
        try (Stepped s = machine(1, sched)) {
            for (String c : new String[] {"a", "b", "c", "d"}) {
                s.fork(c);
            }
            assertEquals(List.of("b", "c", "d", "a"), walk(Q, 0));
            assertEquals(List.of("a", "d", "c", "b"), walk(Q, SCX_DSQ_ITER_REV));
            DsqIter it = new DsqIter();
            assertEquals(0, bpf_iter_scx_dsq_new(it, Q, 0));
            Task b = bpf_iter_scx_dsq_next(it);
            assertEquals("b", b.comm);
            s.fork("e"); // vtime 15: right after b, queued after the walk began
            Task c = bpf_iter_scx_dsq_next(it);
            assertEquals("c", c.comm);
            assertTrue(scx_bpf_dispatch_vtime_from_dsq(it, c, Q2, 0));
            assertTrue(scx_bpf_dispatch_vtime_from_dsq(it, b, Q2, 0));
            assertEquals("d", bpf_iter_scx_dsq_next(it).comm, "d: equal vtime, queued after c");
            assertEquals("a", bpf_iter_scx_dsq_next(it).comm);
            assertNull(bpf_iter_scx_dsq_next(it));
            assertEquals(List.of("b", "c"), comms(Stepped.dsqTasks(s.userDsq(Q2))), "vtime order kept");
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void setSliceAndVtimeApplyToTheNextMoveOnly() {
        try (Stepped s = machine(1, new IterSched())) {
            s.fork("a");
            s.fork("b");
            s.fork("c");
            DsqIter it = new DsqIter();
            assertEquals(0, bpf_iter_scx_dsq_new(it, Q, 0));
            Task a = bpf_iter_scx_dsq_next(it);
            scx_bpf_dispatch_from_dsq_set_slice(it, 777);
            scx_bpf_dispatch_from_dsq_set_vtime(it, 50);
            assertTrue(scx_bpf_dispatch_vtime_from_dsq(it, a, Q2, 0));
            assertEquals(777, a.scx.slice);
            assertEquals(50, a.scx.dsqVtime);
            Task b = bpf_iter_scx_dsq_next(it);
            long bSlice = b.scx.slice;
            b.scx.dsqVtime = 40; // the vtime it had (as if from an earlier vtime dispatch)
            assertTrue(scx_bpf_dispatch_vtime_from_dsq(it, b, Q2, 0));
            assertEquals(bSlice, b.scx.slice, "the override was cleared after the first move");
            assertEquals(40, b.scx.dsqVtime);
            assertEquals(List.of("b", "a"), comms(Stepped.dsqTasks(s.userDsq(Q2))));
            // an override before a plain move: both land on the task (the vtime just has no
            // ordering to do on a FIFO DSQ)
            Task c = bpf_iter_scx_dsq_next(it);
            scx_bpf_dispatch_from_dsq_set_slice(it, 999);
            scx_bpf_dispatch_from_dsq_set_vtime(it, 5);
            assertTrue(scx_bpf_dispatch_from_dsq(it, c, SCX_DSQ_GLOBAL, 0));
            assertEquals(999, c.scx.slice);
            assertEquals(5, c.scx.dsqVtime);
            assertEquals(List.of(c), s.global());
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertEquals(2, s.kfuncCalls(Kfunc.DISPATCH_FROM_DSQ_SET_SLICE));
            assertEquals(2, s.kfuncCalls(Kfunc.DISPATCH_FROM_DSQ_SET_VTIME));
        }
    }

    @Test
    void aMoveFailsForATaskQueuedAfterTheWalkBegan() {
        try (Stepped s = machine(1, new IterSched())) {
            s.fork("a");
            DsqIter it = new DsqIter();
            assertEquals(0, bpf_iter_scx_dsq_new(it, Q, 0));
            Task b = s.fork("b");
            assertFalse(scx_bpf_dispatch_from_dsq(it, b, Q2, 0));
            assertEquals(List.of("a", "b"), comms(Stepped.dsqTasks(s.userDsq(Q))));
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertEquals(1, s.kfuncCalls(Kfunc.DISPATCH_FROM_DSQ));
        }
    }

    @Test
    void fromOpsDispatchToThisCpuAndAcrossCpus() {
        IterSched sched = new IterSched();
        try (Stepped s = machine(2, sched)) {
            List<Boolean> moved = new ArrayList<>();
            // CPU 0 takes every task on Q: those on CPU 1's rq to CPU 1, the rest to itself
            sched.onDispatch = cpu -> {
                if (cpu != 0) {
                    return;
                }
                DsqIter it = bpf_for_each_scx_dsq(Q, 0);
                for (Task p : it) {
                    long dst = p.comm.startsWith("one") ? SCX_DSQ_LOCAL_ON | 1 : SCX_DSQ_LOCAL;
                    moved.add(scx_bpf_dispatch_from_dsq(it, p, dst, 0));
                }
            };
            Task zero = s.fork(new Kernel.TaskSpec().comm("zero").cpu(1).behavior(Behavior.cpuBound(1_000_000L)));
            Task one = s.fork(new Kernel.TaskSpec().comm("one").cpu(1).behavior(Behavior.cpuBound(1_000_000L)));
            assertEquals(1, zero.readOnceCpu(), "queued from CPU 1's rq");
            s.step(0);
            assertEquals(List.of(true, true), moved);
            assertEquals(0, zero.readOnceCpu(), "pulled from CPU 1 to CPU 0");
            assertSame(zero, s.rq(0).curr, "CPU 0 runs what it moved to its own local DSQ");
            assertEquals(List.of(one), s.local(1), "sent to CPU 1's local DSQ");
            s.step(1);
            assertSame(one, s.rq(1).curr);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertEquals(2, s.kfuncCalls(Kfunc.DISPATCH_FROM_DSQ));
        }
    }

    @Test
    void fromAnUnlockedBpfTimer() {
        List<Boolean> moved = new ArrayList<>();
        BpfTimer[] timer = new BpfTimer[1];
        timer[0] = new BpfTimer("mover", () -> {
            DsqIter it = bpf_for_each_scx_dsq(Q, 0);
            for (Task p : it) {
                moved.add(scx_bpf_dispatch_from_dsq(it, p, SCX_DSQ_LOCAL_ON | 1, 0));
            }
        });
        IterSched sched = new IterSched() {
            @Override
            public int init() {
                super.init();
                return bpf_timer_start(timer[0], 5 * 1_000_000L, 0);
            }
        };
        try (Stepped s = machine(2, sched)) {
            Task a = s.fork("a");
            Task b = s.fork("b");
            assertEquals(List.of(a, b), Stepped.dsqTasks(s.userDsq(Q)));
            s.runFor(6_000_000L, 1_000_000L);
            assertEquals(List.of(true, true), moved, "moved from the timer's unlocked context");
            assertTrue(s.rq(1).curr == a || s.local(1).contains(a), "a went to CPU 1");
            assertEquals(1, b.readOnceCpu());
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void aNotAllowedLocalTargetFallsBackToTheGlobalDsqWithAnError() {
        IterSched sched = new IterSched();
        try (Stepped s = machine(2, sched)) {
            Task p = s.forkPinned("pinned", 1);
            DsqIter it = new DsqIter();
            assertEquals(0, bpf_iter_scx_dsq_new(it, Q, 0));
            assertEquals(p, bpf_iter_scx_dsq_next(it));
            assertTrue(scx_bpf_dispatch_from_dsq(it, p, SCX_DSQ_LOCAL_ON | 0, 0));
            assertEquals(List.of(p), s.global());
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertTrue(ei.msg().contains("target") && ei.msg().contains("not allowed for pinned"), ei.msg());
        }
    }

    @Test
    void fromOpsEnqueueEjects() {
        IterSched sched = new IterSched() {
            @Override
            public void enqueue(Task p, long enqFlags) {
                DsqIter it = bpf_for_each_scx_dsq(Q, 0);
                for (Task q : it) {
                    scx_bpf_dispatch_from_dsq(it, q, SCX_DSQ_GLOBAL, 0);
                }
                super.enqueue(p, enqFlags);
            }
        };
        try (Stepped s = machine(1, sched)) {
            s.fork("a");
            s.fork("b");
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            String want = "kfunc with mask 0x[0-9a-f]+ called from an operation only allowing 0x[0-9a-f]+";
            assertTrue(ei.msg().matches(want), ei.msg());
        }
    }

    @Test
    void refusedUnderV7AndThe613NamesFrom616() {
        try (Stepped s = new Stepped(1, CoreProfile.V7)) {
            assertEquals(0, s.load(new IterSched()));
            assertEquals(-EINVAL, bpf_iter_scx_dsq_new(new DsqIter(), Q, 0));
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("kfunc bpf_iter_scx_dsq_new() does not exist in kernel v7 (from 6.12)", ei.msg());
            assertEquals(1, s.kfuncCalls(Kfunc.ITER_SCX_DSQ_NEW));
        }
        IterSched insert = new IterSched() {
            @Override
            public void enqueue(Task p, long enqFlags) {
                scx_bpf_dsq_insert(p, Q, SCX_SLICE_DFL, 0);
            }
        };
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            assertEquals(0, s.load(insert));
            s.fork("a");
            ExitInfo ei = s.finishExit();
            assertEquals("kfunc scx_bpf_dsq_insert() does not exist in kernel 6.12 (from 6.16)", ei.msg());
        }
        try (Stepped s = new Stepped(1, CoreProfile.V6_16)) {
            assertEquals(0, s.load(insert));
            s.fork("a");
            assertEquals(1, s.userDsq(Q).readOnceNr());
            DsqIter it = bpf_for_each_scx_dsq(Q, 0);
            for (Task p : it) {
                assertTrue(scx_bpf_dsq_move(it, p, Q2, 0));
            }
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertEquals(1, s.kfuncCalls(Kfunc.DSQ_INSERT));
            assertEquals(0, s.kfuncCalls(Kfunc.DISPATCH));
            assertEquals(1, s.kfuncCalls(Kfunc.DSQ_MOVE));
        }
        assertFalse(Kfunc.DISPATCH_FROM_DSQ.existsIn(CoreProfile.V7));
        assertTrue(Kfunc.DISPATCH_FROM_DSQ.existsIn(CoreProfile.V6_12));
        assertTrue(Kfunc.DISPATCH.existsIn(CoreProfile.V6_19), "the old names stay");
        assertSame(Kfunc.ITER_SCX_DSQ_NEXT, Kfunc.byKernelName("bpf_iter_scx_dsq_next"));
        assertSame(Kfunc.DSQ_MOVE_VTIME, Kfunc.byKernelName("scx_bpf_dsq_move_vtime"));
        assertNull(Kfunc.byKernelName("scx_bpf_no_such"));
        assertNull(Kfunc.CPU_RQ.refusal(CoreProfile.V6_12));
    }
}
