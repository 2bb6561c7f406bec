// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/**
 * The ops-state machine (NONE / QUEUEING / QUEUED / DISPATCHING with qseq): BPF-side dispatches
 * are requests, and stale ones are silently dropped in finish_dispatch(); ops.dequeue() is only
 * called while the BPF scheduler owns the task.
 */
class OpsStateTest {

    /**
     * Keeps tasks on its own queue (every enqueue instance, so stale entries remain, as in
     * scx_qmap). Tasks wake on CPU 1; CPU 0's dispatch() pops and dispatches to its local DSQ
     * and runs {@code duringDispatch} between the dispatch and the flush.
     */
    private static class QSched implements SchedExtOps {
        final ArrayDeque<Task> q = new ArrayDeque<>();
        final List<String> log = new ArrayList<>();
        Runnable duringDispatch;
        boolean dispatchEnabled = true;
        /** How many more dispatches dispatch() may issue. */
        int budget = Integer.MAX_VALUE;
        boolean directLocal;

        @Override
        public String name() {
            return "qsched";
        }

        @Override
        public int selectCpu(Task p, int prevCpu, long wakeFlags) {
            return 1;
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            log.add("enqueue:" + p.comm + ":qseq=" + (p.scx.opsState() >>> SCX_OPSS_QSEQ_SHIFT));
            if (directLocal) {
                scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
                return;
            }
            q.add(p);
        }

        @Override
        public void dequeue(Task p, long deqFlags) {
            log.add("dequeue:" + p.comm + ":0x" + Long.toHexString(deqFlags));
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            if (cpu != 0 || !dispatchEnabled || budget <= 0) {
                return;
            }
            budget--;
            Task p = q.poll();
            if (p == null) {
                return;
            }
            log.add("dispatch:" + p.comm);
            scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
            if (duringDispatch != null) {
                Runnable r = duringDispatch;
                duringDispatch = null;
                r.run();
            }
        }
    }

    private static long state(Task p) {
        return p.scx.opsState() & SCX_OPSS_STATE_MASK;
    }

    @Test
    void enqueueLeavesTheTaskQueuedWithTheRqsQseq() {
        try (Stepped s = new Stepped(2)) {
            QSched sched = new QSched();
            assertEquals(0, s.load(sched));
            Task a = s.fork("a");
            Task b = s.fork("b");
            assertEquals(SCX_OPSS_QUEUED, state(a));
            assertEquals(SCX_OPSS_QUEUED, state(b));
            long qa = a.scx.opsState() >>> SCX_OPSS_QSEQ_SHIFT;
            long qb = b.scx.opsState() >>> SCX_OPSS_QSEQ_SHIFT;
            assertEquals(qa + 1, qb, "qseq is rq->scx.ops_qseq++ of the enqueuing rq");
            assertEquals(List.of("enqueue:a:qseq=0", "enqueue:b:qseq=1"), sched.log,
                    "ops.enqueue() runs in QUEUEING with the new qseq: " + sched.log);
        }
    }

    @Test
    void dispatchClaimsAQueuedTask() {
        try (Stepped s = new Stepped(2)) {
            QSched sched = new QSched();
            assertEquals(0, s.load(sched));
            Task p = s.fork("p");
            assertEquals(1, p.cpu());
            s.resched(0);
            s.step(0);
            assertEquals(p, s.rq(0).curr(), "dispatched from CPU 1's rq to CPU 0");
            assertEquals(SCX_OPSS_NONE, state(p));
            assertTrue(sched.log.stream().noneMatch(l -> l.startsWith("dequeue")), sched.log.toString());
        }
    }

    @Test
    void staleDispatchAfterDequeueAndReenqueueIsDropped() {
        try (Stepped s = new Stepped(2)) {
            QSched sched = new QSched();
            assertEquals(0, s.load(sched));
            Task p = s.fork("p");
            long qseq0 = p.scx.opsState() >>> SCX_OPSS_QSEQ_SHIFT;
            Rq rq1 = s.rq(1);
            // between scx_bpf_dispatch() and the flush, p's own CPU dequeues and re-enqueues it
            // (e.g. a sched_setaffinity() or a priority change: DEQUEUE_SAVE / ENQUEUE_RESTORE)
            sched.budget = 1; // the dispatch loop goes round again after a flush: dispatch once
            sched.duringDispatch = () -> {
                rq1.lock.lock();
                try {
                    s.k.requeue(rq1, p);
                } finally {
                    rq1.lock.unlock();
                }
            };
            s.resched(0);
            s.step(0);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind(), s.ext.exitInfo().msg());
            long qseq1 = p.scx.opsState() >>> SCX_OPSS_QSEQ_SHIFT;
            assertTrue(qseq1 != qseq0, "re-enqueued with a new qseq");
            assertEquals(SCX_OPSS_QUEUED, state(p), "still owned by the BPF scheduler");
            assertEquals(s.rq(0).idleTask(), s.rq(0).curr(), "the stale dispatch did not run p");
            assertEquals(1, p.cpu());
            assertEquals(SCX_DSQ_INVALID, p.scx.dsqId());
            assertTrue(s.local(0).isEmpty());
            assertEquals(List.of("enqueue:p:qseq=" + qseq0, "dispatch:p", "dequeue:p:0xe",
                    "enqueue:p:qseq=" + qseq1), sched.log);
            // the current enqueue instance is still dispatchable
            sched.budget = 1;
            s.resched(0);
            s.step(0);
            assertEquals(p, s.rq(0).curr());
        }
    }

    @Test
    void dispatchAfterDequeueIsDropped() {
        try (Stepped s = new Stepped(2)) {
            QSched sched = new QSched();
            sched.dispatchEnabled = false;
            assertEquals(0, s.load(sched));
            Task p = s.fork("p");
            assertEquals(SCX_OPSS_QUEUED, state(p));
            s.forceSleep(p);
            assertEquals(SCX_OPSS_NONE, state(p));
            assertEquals(List.of("enqueue:p:qseq=0", "dequeue:p:0x1"), sched.log, "dequeue with SCX_DEQ_SLEEP");
            // the BPF side still has p queued and dispatches it now
            sched.dispatchEnabled = true;
            s.resched(0);
            s.step(0);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertTrue(sched.log.contains("dispatch:p"));
            assertEquals(s.rq(0).idleTask(), s.rq(0).curr());
            assertEquals(SCX_DSQ_INVALID, p.scx.dsqId());
            assertEquals(SCX_OPSS_NONE, state(p));
            assertEquals(0, p.scx.flags() & SCX_TASK_QUEUED);
            // it wakes up later and goes through enqueue again
            assertTrue(s.k.wakeUpProcess(p));
            assertEquals(SCX_OPSS_QUEUED, state(p));
            s.resched(0);
            s.step(0);
            assertEquals(p, s.rq(0).curr());
        }
    }

    @Test
    void dequeueIsOnlyCalledWhenTheBpfSchedulerOwnsTheTask() {
        try (Stepped s = new Stepped(2)) {
            QSched sched = new QSched();
            sched.directLocal = true;
            assertEquals(0, s.load(sched));
            Task p = s.fork("p"); // enqueue dispatches it straight to CPU 1's local DSQ
            assertEquals(SCX_OPSS_NONE, state(p));
            assertEquals(List.of(p), s.local(1));
            s.forceSleep(p);
            assertTrue(s.local(1).isEmpty());
            assertEquals(List.of("enqueue:p:qseq=0"), sched.log, "no ops.dequeue() for a task the kernel owns");
            s.k.wakeUpProcess(p);
            s.step(1);
            assertEquals(p, s.rq(1).curr());
            sched.directLocal = false;
            Task q = s.fork("q"); // QUEUED with the BPF scheduler
            s.forceSleep(q);
            assertEquals(List.of("enqueue:p:qseq=0", "enqueue:p:qseq=1", "enqueue:q:qseq=2", "dequeue:q:0x1"),
                    sched.log);
        }
    }

    @Test
    void wakeupEnqueueCarriesScxEnqWakeup() {
        try (Stepped s = new Stepped(2)) {
            QSched sched = new QSched() {
                @Override
                public void enqueue(Task p, long enqFlags) {
                    log.add("flags:" + ((enqFlags & SCX_ENQ_WAKEUP) != 0 ? "wakeup" : "-"));
                    super.enqueue(p, enqFlags);
                }
            };
            sched.dispatchEnabled = false;
            assertEquals(0, s.load(sched));
            Task p = s.fork("p");
            s.forceSleep(p);
            s.k.wakeUpProcess(p);
            assertEquals(List.of("flags:-", "enqueue:p:qseq=0", "dequeue:p:0x1", "flags:wakeup", "enqueue:p:qseq=1"),
                    sched.log, "a fork is not a wakeup; a ttwu is");
        }
    }

    @Test
    void runningTaskThatBlocksGetsStoppingAndQuiescent() {
        try (Stepped s = new Stepped(1)) {
            List<String> log = new ArrayList<>();
            boolean[] blocked = new boolean[1];
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "cb_order";
                }

                @Override
                public void runnable(Task p, long enqFlags) {
                    log.add("runnable");
                }

                @Override
                public void running(Task p) {
                    log.add("running");
                }

                @Override
                public void stopping(Task p, boolean runnable) {
                    log.add("stopping:" + runnable);
                }

                @Override
                public void quiescent(Task p, long deqFlags) {
                    log.add("quiescent:0x" + Long.toHexString(deqFlags));
                }

                @Override
                public void dequeue(Task p, long deqFlags) {
                    log.add("dequeue");
                }
            }));
            Task p = s.fork(new Kernel.TaskSpec().comm("p").behavior((self, step, now) -> {
                if (!blocked[0]) {
                    blocked[0] = true;
                    s.k.prepareToWait(self);
                    step.block();
                } else {
                    step.run(1_000_000L);
                }
            }));
            s.settle();
            assertEquals(List.of("runnable", "running", "stopping:false", "quiescent:0x9"), log);
            assertEquals(0, p.scx.flags() & SCX_TASK_QUEUED);
            assertEquals(SCX_TASK_DEQD_FOR_SLEEP, p.scx.flags() & SCX_TASK_DEQD_FOR_SLEEP);
            s.k.wakeUpProcess(p);
            s.settle();
            assertEquals(p, s.rq(0).curr());
            assertEquals(List.of("runnable", "running", "stopping:false", "quiescent:0x9", "runnable", "running"),
                    log);
        }
    }
}
