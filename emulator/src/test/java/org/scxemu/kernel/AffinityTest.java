// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.schedulers.ScxSimple;
import org.scxemu.scx.SchedExtOps;

/**
 * Kernel.setCpusAllowedPtr() (core.c: __set_cpus_allowed_ptr()): a queued ext task is moved to
 * an allowed CPU at once (ops.dequeue, then ops.enqueue there), a running one is switched out by
 * the migration stopper (the CPU sees a stop-class preemption: ops.cpu_release with
 * SCX_CPU_PREEMPT_STOP) and moved before it can run there again, a task in a user DSQ is not
 * consumed by a CPU it may no longer use, ops.set_cpumask() gets the new mask, and a mask with no
 * usable CPU is rejected with -EINVAL.
 */
class AffinityTest {
    static final long DSQ = 7;

    /** Local dispatch (mode LOCAL) or a user DSQ consumed by ops.dispatch() (mode USER). */
    private static class AffSched implements SchedExtOps {
        final boolean user;
        final List<String> events = new ArrayList<>();
        final List<CpuMask> masks = new ArrayList<>();
        final List<Integer> releaseReasons = new ArrayList<>();

        AffSched(boolean user) {
            this.user = user;
        }

        @Override
        public String name() {
            return "aff";
        }

        @Override
        public int init() {
            return user ? scx_bpf_create_dsq(DSQ, -1) : 0;
        }

        @Override
        public int selectCpu(Task p, int prevCpu, long wakeFlags) {
            return prevCpu;
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            events.add("enqueue:" + p.comm + "@" + p.cpu());
            scx_bpf_dispatch(p, user ? DSQ : SCX_DSQ_LOCAL, SCX_SLICE_DFL, enqFlags);
        }

        @Override
        public void dequeue(Task p, long deqFlags) {
            events.add("dequeue:" + p.comm);
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            if (user) {
                scx_bpf_consume(DSQ);
            }
        }

        @Override
        public void setCpumask(Task p, CpuMask cpumask) {
            events.add("set_cpumask:" + p.comm + ":" + cpumask);
            masks.add(cpumask);
        }

        @Override
        public void cpuRelease(int cpu, CpuReleaseArgs args) {
            releaseReasons.add(args.reason());
        }
    }

    /** A machine with the scheduler loaded and the per-CPU stoppers created and asleep. */
    private static Stepped machine(int cpus, AffSched sched) {
        Stepped s = new Stepped(cpus);
        assertEquals(0, s.load(sched));
        CpuStopper[] st = s.k.cpuStoppers();
        assertEquals(cpus, st.length);
        s.settle();
        for (CpuStopper c : st) {
            assertEquals(Task.TASK_INTERRUPTIBLE, c.task.state(), c.task + " sleeps until it has work");
        }
        sched.events.clear();
        sched.masks.clear();
        sched.releaseReasons.clear();
        return s;
    }

    @Test
    void queuedTaskMovesToAnAllowedCpuAtOnce() {
        AffSched sched = new AffSched(false);
        try (Stepped s = machine(2, sched)) {
            Task a = s.fork(new Kernel.TaskSpec().comm("a").cpu(0));
            Task b = s.fork(new Kernel.TaskSpec().comm("b").cpu(0));
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            assertEquals(List.of(b), s.local(0));
            sched.events.clear();

            assertEquals(0, s.k.setCpusAllowedPtr(b, CpuMask.of(1)));
            assertEquals(1, b.cpu(), "move_queued_task() put b on CPU 1");
            assertFalse(b.migrationPending());
            assertEquals(List.of(), s.local(0));
            assertEquals(List.of(b), s.local(1));
            // No ops.dequeue (b sat on a local DSQ, not in the BPF scheduler's custody); the
            // RESTORE enqueue on CPU 0 goes through ops.enqueue (b is not current), then the
            // migration's enqueue on CPU 1.
            assertEquals(List.of("set_cpumask:b:1", "enqueue:b@0", "enqueue:b@1"), sched.events);
            assertEquals(Task.TASK_ON_RQ_QUEUED, b.laOnRq());
            s.step(1);
            assertEquals(b, s.rq(1).curr());
            assertEquals(a, s.rq(0).curr());
        }
    }

    @Test
    void runningTaskIsSwitchedOutByTheStopperAndMoved() {
        AffSched sched = new AffSched(false);
        try (Stepped s = machine(2, sched)) {
            Task a = s.fork(new Kernel.TaskSpec().comm("a").cpu(0));
            Task b = s.fork(new Kernel.TaskSpec().comm("b").cpu(0));
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            sched.events.clear();

            assertEquals(0, s.k.setCpusAllowedPtr(a, CpuMask.of(1)));
            assertTrue(a.migrationPending(), "a still runs on CPU 0 until the stopper takes it off");
            assertEquals(a, s.rq(0).curr());
            assertEquals(0, a.cpu());
            assertTrue(s.rq(0).needResched(), "the stopper's wakeup preempts a");
            assertEquals(CpuMask.of(1), a.cpusPtr());

            Task stopper = s.k.cpuStoppers()[0].task;
            s.step(0);
            assertEquals(stopper, s.rq(0).curr(), "the stopper runs before anything else");
            assertEquals(List.of(SCX_CPU_PREEMPT_STOP), sched.releaseReasons);
            for (int i = 0; i < 5; i++) {
                s.clock.advance(100_000L);
                s.step(0);
                assertNotEquals(a, s.rq(0).curr(), "a never runs on CPU 0 again");
            }
            assertEquals(b, s.rq(0).curr());
            assertEquals(1, a.cpu());
            assertFalse(a.migrationPending());
            assertEquals(List.of(a), s.local(1));
            s.step(1);
            assertEquals(a, s.rq(1).curr());
            assertTrue(sched.events.contains("set_cpumask:a:1"), sched.events.toString());
            assertTrue(sched.events.contains("enqueue:a@1"), sched.events.toString());
            assertNull(s.k.bug());
        }
    }

    @Test
    void runningTaskWhoseCpuStaysAllowedKeepsRunning() {
        AffSched sched = new AffSched(false);
        try (Stepped s = machine(2, sched)) {
            Task a = s.fork(new Kernel.TaskSpec().comm("a").cpu(0));
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            sched.events.clear();
            assertEquals(0, s.k.setCpusAllowedPtr(a, CpuMask.of(0)));
            assertFalse(a.migrationPending());
            assertFalse(s.rq(0).needResched());
            s.clock.advance(100_000L);
            s.step(0);
            assertEquals(a, s.rq(0).curr());
            assertEquals(List.of("set_cpumask:a:0"), sched.events);
        }
    }

    @Test
    void taskInAUserDsqIsNotConsumedByACpuItMayNoLongerUse() {
        AffSched sched = new AffSched(true);
        try (Stepped s = machine(2, sched)) {
            Task a = s.fork(new Kernel.TaskSpec().comm("a").allowed(CpuMask.of(0)).cpu(0));
            Task c = s.fork(new Kernel.TaskSpec().comm("c").allowed(CpuMask.of(1)).cpu(1));
            s.step(0);
            s.step(1);
            assertEquals(a, s.rq(0).curr());
            assertEquals(c, s.rq(1).curr());
            Task q = s.fork(new Kernel.TaskSpec().comm("q").cpu(0));
            assertEquals(List.of(q), Stepped.dsqTasks(s.userDsq(DSQ)));
            sched.events.clear();

            assertEquals(0, s.k.setCpusAllowedPtr(q, CpuMask.of(1)));
            assertEquals(1, q.cpu());
            assertEquals(List.of(q), Stepped.dsqTasks(s.userDsq(DSQ)), "q is back in the user DSQ");
            // q was dispatched to the DSQ from ops.enqueue: not in BPF custody, so no ops.dequeue
            assertEquals(List.of("set_cpumask:q:1", "enqueue:q@0", "enqueue:q@1"), sched.events);

            // CPU 0 reschedules many times (a's slice runs out): it must never take q.
            for (int i = 0; i < 60; i++) {
                s.clock.advance(1_000_000L);
                s.step(0);
                assertNotEquals(q, s.rq(0).curr());
            }
            assertTrue(Stepped.dsqTasks(s.userDsq(DSQ)).contains(q) || s.local(1).contains(q));
            s.stepUntil(1, 1_000_000L, 100, () -> s.rq(1).curr() == q);
            assertNull(s.k.bug());
        }
    }

    @Test
    void setCpumaskSeesTheNewMaskAndAnEqualMaskIsANoOp() {
        AffSched sched = new AffSched(false);
        try (Stepped s = machine(4, sched)) {
            Task p = s.fork(new Kernel.TaskSpec().comm("p").behavior(Stepped.sleeper(100_000L, 50_000_000L)));
            s.settle();
            s.clock.advance(200_000L);
            s.settle();
            assertEquals(Task.TASK_INTERRUPTIBLE, p.state(), "p sleeps");
            sched.events.clear();
            assertEquals(0, s.k.setCpusAllowedPtr(p, CpuMask.of(2, 3)));
            assertEquals(List.of(CpuMask.of(2, 3)), sched.masks);
            assertEquals(List.of("set_cpumask:p:2-3"), sched.events, "a sleeping task is not re-enqueued");
            assertEquals(0, s.k.setCpusAllowedPtr(p, CpuMask.of(2, 3)));
            assertEquals(1, sched.masks.size(), "the same mask again changes nothing");
            s.runFor(60_000_000L, 1_000_000L);
            assertTrue(p.cpu() == 2 || p.cpu() == 3, "its wakeup picked an allowed CPU: " + p.cpu());
        }
    }

    @Test
    void maskWithoutAUsableCpuIsRejected() {
        AffSched sched = new AffSched(false);
        try (Stepped s = machine(2, sched)) {
            Task p = s.fork("p");
            CpuMask before = p.cpusPtr();
            assertEquals(-Kernel.EINVAL, s.k.setCpusAllowedPtr(p, CpuMask.of()));
            assertEquals(-Kernel.EINVAL, s.k.setCpusAllowedPtr(p, CpuMask.of(5)));
            assertEquals(-Kernel.EINVAL, s.k.setCpusAllowedPtr(p, null));
            assertEquals(-Kernel.EINVAL, s.k.setCpusAllowedPtr(s.k.cpuStoppers()[0].task, CpuMask.of(1)),
                    "per-CPU kthreads may not change affinity");
            assertEquals(before, p.cpusPtr());
            assertTrue(sched.masks.isEmpty());
            // CPUs beyond the machine are dropped, as sched_setaffinity() does
            assertEquals(0, s.k.setCpusAllowedPtr(p, CpuMask.of(1, 5)));
            assertEquals(CpuMask.of(1), p.cpusPtr());
        }
    }

    /**
     * On threads: the test thread changes the masks of cpu-bound and sleeping ext tasks under
     * scx_simple as fast as it can while a sampler checks, under each rq lock, that a task
     * current on a CPU outside its mask always has its migration pending.
     */
    @Test
    void threadedAffinityChurnKeepsTasksOnAllowedCpus() throws Exception {
        int cpus = 4;
        try (Machine m = Machine.threaded(cpus)) {
            Kernel k = m.kernel();
            assertEquals(0, m.load(new ScxSimple(false)));
            List<Task> tasks = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Behavior b = i % 2 == 0 ? Behavior.cpuBound(200_000L) : Stepped.sleeper(300_000L, 200_000L);
                tasks.add(k.fork(new Kernel.TaskSpec().comm("t" + i).cpu(i % cpus).behavior(b)));
            }
            m.start();
            AtomicReference<String> violation = new AtomicReference<>();
            AtomicBoolean done = new AtomicBoolean();
            Thread sampler = new Thread(() -> {
                while (!done.get()) {
                    for (int cpu = 0; cpu < cpus; cpu++) {
                        Rq rq = k.rq(cpu);
                        rq.lock.lock();
                        try {
                            Task t = rq.curr;
                            if (t != rq.idle && !t.cpusAllowed.test(cpu) && !t.migrationPending) {
                                violation.compareAndSet(null, t + " runs on CPU " + cpu + " outside " + t.cpusAllowed);
                            }
                        } finally {
                            rq.lock.unlock();
                        }
                    }
                }
            }, "sampler");
            sampler.start();
            SplittableRandom rnd = new SplittableRandom(42);
            long end = System.nanoTime() + 300_000_000L;
            int changes = 0;
            while (System.nanoTime() < end && k.bug() == null) {
                Task t = tasks.get(rnd.nextInt(tasks.size()));
                int kind = rnd.nextInt(3);
                CpuMask mask = kind == 0 ? CpuMask.of(rnd.nextInt(cpus))
                        : kind == 1 ? CpuMask.of(rnd.nextInt(cpus), rnd.nextInt(cpus)) : CpuMask.all(cpus);
                assertEquals(0, k.setCpusAllowedPtr(t, mask));
                changes++;
            }
            done.set(true);
            sampler.join(5_000);
            long before = sumRuntime(tasks);
            m.runFor(50_000_000L);
            m.stop();
            assertNull(k.bug(), () -> "kernel bug: " + k.bug());
            assertNull(violation.get());
            assertEquals(0, m.ext().exitKind(), () -> "scheduler exited: " + m.ext().exitInfo());
            assertTrue(changes > 100, "changes: " + changes);
            assertTrue(sumRuntime(tasks) > before, "tasks still make progress");
        }
    }

    private static long sumRuntime(List<Task> tasks) {
        long n = 0;
        for (Task t : tasks) {
            n += t.sumExecRuntime();
        }
        return n;
    }
}
