// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/** User DSQs: creation, FIFO / ENQ_HEAD / vtime ordering, the FIFO-PRIQ rules, destruction. */
class DsqTest {
    static final long DSQ = 0x42;

    /**
     * Enqueue sends every task to DSQ 0x42: FIFO by default, at the head for comms starting with
     * "head", vtime-ordered when a vtime is set for the task. Nothing consumes it unless
     * {@code consume} is set.
     */
    private static class DsqSched implements SchedExtOps {
        final Map<String, Long> vtime = new HashMap<>();
        final List<Integer> initResults = new ArrayList<>();
        boolean consume;
        String destroyOnEnqueueOf;

        @Override
        public String name() {
            return "dsq_test";
        }

        @Override
        public int init() {
            initResults.add(scx_bpf_create_dsq(DSQ, -1));
            return 0;
        }

        @Override
        public int selectCpu(Task p, int prevCpu, long wakeFlags) {
            return prevCpu;
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            if (p.comm.equals(destroyOnEnqueueOf)) {
                scx_bpf_destroy_dsq(DSQ);
                scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
                return;
            }
            Long v = vtime.get(p.comm);
            if (v != null) {
                scx_bpf_dispatch_vtime(p, DSQ, SCX_SLICE_DFL, v, 0);
            } else if (p.comm.startsWith("head")) {
                scx_bpf_dispatch(p, DSQ, SCX_SLICE_DFL, SCX_ENQ_HEAD);
            } else {
                scx_bpf_dispatch(p, DSQ, SCX_SLICE_DFL, 0);
            }
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            if (consume) {
                scx_bpf_consume(DSQ);
            }
        }
    }

    private static List<String> comms(List<Task> l) {
        List<String> out = new ArrayList<>();
        for (Task p : l) {
            out.add(p.comm);
        }
        return out;
    }

    @Test
    void createDsqReturnValues() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched() {
                @Override
                public int init() {
                    initResults.add(scx_bpf_create_dsq(DSQ, -1));
                    initResults.add(scx_bpf_create_dsq(DSQ, -1));
                    initResults.add(scx_bpf_create_dsq(SCX_DSQ_GLOBAL, -1));
                    initResults.add(scx_bpf_create_dsq(SCX_DSQ_LOCAL, -1));
                    initResults.add(scx_bpf_create_dsq(SCX_DSQ_LOCAL_ON | 0, -1));
                    initResults.add(scx_bpf_create_dsq(0, -2));
                    initResults.add(scx_bpf_create_dsq(0, -1));
                    return 0;
                }
            };
            assertEquals(0, s.load(sched));
            assertEquals(List.of(0, -EEXIST, -EINVAL, -EINVAL, -EINVAL, -EINVAL, 0), sched.initResults);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            s.m.unload();
            assertTrue(s.ext.dsqHash.isEmpty(), "user DSQs survive the unload");
        }
    }

    @Test
    void fifoAndEnqHeadOrder() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched();
            assertEquals(0, s.load(sched));
            s.fork("a");
            s.fork("b");
            s.fork("head1");
            s.fork("c");
            s.fork("head2");
            assertEquals(List.of("head2", "head1", "a", "b", "c"), comms(Stepped.dsqTasks(s.userDsq(DSQ))));
            assertEquals(5, s.userDsq(DSQ).readOnceNr());
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void consumingRunsInDsqOrder() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched();
            sched.consume = true;
            List<String> ran = new ArrayList<>();
            assertEquals(0, s.load(sched));
            s.fork(new Kernel.TaskSpec().comm("a").behavior(recordThenExit(ran)));
            s.fork(new Kernel.TaskSpec().comm("b").behavior(recordThenExit(ran)));
            s.fork(new Kernel.TaskSpec().comm("head").behavior(recordThenExit(ran)));
            s.runFor(10_000_000L, 1_000_000L);
            assertEquals(List.of("head", "a", "b"), ran);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    private static Behavior recordThenExit(List<String> ran) {
        return (self, step, now) -> {
            ran.add(self.comm);
            step.exit();
        };
    }

    @Test
    void vtimeOrderWithFifoTiesAndWrap() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched();
            sched.vtime.put("v30", 30L);
            sched.vtime.put("v10a", 10L);
            sched.vtime.put("v20", 20L);
            sched.vtime.put("v10b", 10L);
            sched.vtime.put("v10c", 10L);
            sched.vtime.put("v0", 0L);
            assertEquals(0, s.load(sched));
            for (String c : List.of("v30", "v10a", "v20", "v10b", "v0", "v10c")) {
                s.fork(c);
            }
            assertEquals(List.of("v0", "v10a", "v10b", "v10c", "v20", "v30"), comms(Stepped.dsqTasks(s.userDsq(DSQ))));
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void vtimeComparisonIsWrapSafe() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched();
            sched.vtime.put("late", Long.MIN_VALUE + 10); // U64 0x800000000000000a: after "early"
            sched.vtime.put("early", Long.MAX_VALUE - 10);
            sched.vtime.put("mid", Long.MAX_VALUE);
            assertEquals(0, s.load(sched));
            s.fork("late");
            s.fork("mid");
            s.fork("early");
            assertEquals(List.of("early", "mid", "late"), comms(Stepped.dsqTasks(s.userDsq(DSQ))));
        }
    }

    @Test
    void vtimeAfterFifoIsAnError() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched();
            sched.vtime.put("v", 5L);
            assertEquals(0, s.load(sched));
            s.fork("fifo");
            s.fork("v");
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("DSQ ID 0x0000000000000042 already had FIFO-enqueued tasks", ei.msg());
        }
    }

    @Test
    void fifoAfterVtimeIsAnError() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched();
            sched.vtime.put("v", 5L);
            assertEquals(0, s.load(sched));
            s.fork("v");
            s.fork("fifo");
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("DSQ ID 0x0000000000000042 already had PRIQ-enqueued tasks", ei.msg());
        }
    }

    @Test
    void destroyingAnInUseDsqIsAnError() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched();
            sched.destroyOnEnqueueOf = "destroyer";
            assertEquals(0, s.load(sched));
            s.fork("a");
            s.fork("b");
            s.fork("destroyer");
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("attempting to destroy in-use dsq 0x0000000000000042 (nr=2)", ei.msg());
        }
    }

    @Test
    void destroyingAnEmptyDsqRemovesItAndLaterDispatchesFail() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched();
            sched.destroyOnEnqueueOf = "destroyer";
            assertEquals(0, s.load(sched));
            assertTrue(s.userDsq(DSQ) != null);
            Dsq dsq = s.userDsq(DSQ);
            s.fork("destroyer");
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertNull(s.userDsq(DSQ));
            assertEquals(SCX_DSQ_INVALID, dsq.id(), "a destroyed DSQ is marked invalid");
            Task p = s.fork("late");
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("non-existent DSQ 0x42 for late[" + p.pid + "]", ei.msg());
        }
    }

    @Test
    void destroyingAMissingDsqIsIgnored() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched() {
                @Override
                public int init() {
                    scx_bpf_destroy_dsq(0x99);
                    return super.init();
                }
            };
            assertEquals(0, s.load(sched));
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void dispatchToADsqDestroyedAfterLookupGoesGlobalWithAnError() {
        try (Stepped s = new Stepped(1)) {
            DsqSched sched = new DsqSched();
            assertEquals(0, s.load(sched));
            Task p = s.fork("t");
            assertEquals(List.of(p), Stepped.dsqTasks(s.userDsq(DSQ)));
            s.forceSleep(p);
            Dsq dsq = s.userDsq(DSQ);
            assertEquals(0, dsq.readOnceNr());
            // a dispatcher looked the DSQ up, then destroy_dsq() won the DSQ lock
            dsq.lock.lock();
            try {
                s.ext.dsqHash.remove(DSQ);
                dsq.setId(SCX_DSQ_INVALID);
            } finally {
                dsq.lock.unlock();
            }
            Rq rq = s.rq(0);
            rq.lock.lock();
            try {
                s.ext.dispatch.dispatchEnqueue(dsq, p, 0);
                assertEquals(List.of(p), s.global(), "the late dispatch lands on the global DSQ");
                assertEquals(0, dsq.readOnceNr());
                s.ext.dispatch.dispatchDequeue(rq, p);
            } finally {
                rq.lock.unlock();
            }
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("attempting to dispatch to a destroyed dsq", ei.msg());
        }
    }

    @Test
    void dsqNrQueued() {
        try (Stepped s = new Stepped(2)) {
            List<Integer> nr = new ArrayList<>();
            DsqSched sched = new DsqSched() {
                @Override
                public void enqueue(Task p, long enqFlags) {
                    super.enqueue(p, enqFlags);
                    nr.add(scx_bpf_dsq_nr_queued(DSQ));
                    nr.add(scx_bpf_dsq_nr_queued(0x1234));
                    nr.add(scx_bpf_dsq_nr_queued(SCX_DSQ_LOCAL_ON | 1));
                }
            };
            assertEquals(0, s.load(sched));
            s.fork("a");
            s.fork("b");
            assertEquals(List.of(0, -ENOENT, 0, 1, -ENOENT, 0), nr);
        }
    }
}
