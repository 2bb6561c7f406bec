// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.scx.SchedExtOps;

/**
 * The sched_ext core on real CPU threads: a scheduler with a BPF-side queue, remote dispatch
 * ({@code SCX_DSQ_LOCAL_ON | cpu}), a user DSQ and consume, under cpu-bound, sleeping and
 * ping-pong tasks. No task is lost (every task keeps making progress), none is current on two
 * CPUs at once (sampled under every rq lock), no kernel BUG, and unloading hands every task back to
 * fair, which keeps running them.
 */
class ThreadedTest {
    static final long DSQ = 7;
    static final long SLICE = 2_000_000L;

    /** Half the tasks go through a BPF-side FIFO and remote dispatch, half through a user DSQ. */
    static class MtSched implements SchedExtOps {
        final ConcurrentLinkedQueue<Task> q = new ConcurrentLinkedQueue<>();
        final AtomicLong localOn = new AtomicLong();
        final AtomicLong consumed = new AtomicLong();
        final AtomicLong dequeued = new AtomicLong();
        final AtomicLong spurious = new AtomicLong();
        /** Every task ever enqueued: the source of spurious dispatches. */
        final Task[] seen = new Task[256];
        final AtomicInteger nrSeen = new AtomicInteger();

        @Override
        public String name() {
            return "mt";
        }

        @Override
        public int init() {
            return scx_bpf_create_dsq(DSQ, -1);
        }

        @Override
        public int selectCpu(Task p, int prevCpu, long wakeFlags) {
            boolean[] idle = new boolean[1];
            int cpu = scx_bpf_select_cpu_dfl(p, prevCpu, wakeFlags, idle);
            if (idle[0]) {
                scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SLICE, 0);
            }
            return cpu;
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            if (p.workloadData == null) {
                p.workloadData = Boolean.TRUE;
                int i = nrSeen.getAndIncrement();
                if (i < seen.length) {
                    seen[i] = p;
                }
            }
            if ((p.pid & 1) == 0) {
                q.add(p);
            } else {
                scx_bpf_dispatch(p, DSQ, SLICE, enqFlags);
            }
        }

        @Override
        public void dequeue(Task p, long deqFlags) {
            dequeued.incrementAndGet();
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            int nr = Math.min(nrSeen.get(), seen.length);
            if (nr > 0 && rnd.nextInt(4) == 0) {
                // the BPF scheduler may dispatch spuriously (a task running elsewhere, asleep,
                // already dispatched): the kernel must drop what it does not own
                Task x = seen[rnd.nextInt(nr)];
                if (x != null) {
                    scx_bpf_dispatch(x, SCX_DSQ_LOCAL_ON | pickTarget(x, cpu), SLICE, 0);
                    spurious.incrementAndGet();
                }
            }
            int n = Math.min(scx_bpf_dispatch_nr_slots(), 4);
            for (int i = 0; i < n; i++) {
                Task p = q.poll();
                if (p == null) {
                    break;
                }
                int target = pickTarget(p, cpu);
                scx_bpf_dispatch(p, SCX_DSQ_LOCAL_ON | target, SLICE, 0);
                localOn.incrementAndGet();
                if (target != cpu) {
                    scx_bpf_kick_cpu(target, rnd.nextInt(4) == 0 ? SCX_KICK_PREEMPT : 0);
                }
            }
            if (scx_bpf_consume(DSQ)) {
                consumed.incrementAndGet();
            }
        }

        private static int pickTarget(Task p, int cpu) {
            CpuMask allowed = p.cpusPtr();
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            if (allowed.test(cpu) && rnd.nextBoolean()) {
                return cpu;
            }
            int k = rnd.nextInt(allowed.weight());
            int c = allowed.first();
            for (int i = 0; i < k; i++) {
                c = allowed.next(c + 1);
            }
            return c;
        }
    }

    /** MtSched plus the seed: cpu_release re-enqueues the local DSQ, REENQ tasks go to the DSQ. */
    static final class MtRelSched extends MtSched {
        final AtomicLong released = new AtomicLong();
        final AtomicLong acquired = new AtomicLong();
        final AtomicLong reenq = new AtomicLong();

        @Override
        public String name() {
            return "mt_rel";
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            if ((enqFlags & SCX_ENQ_REENQ) != 0) {
                reenq.incrementAndGet();
                scx_bpf_dispatch(p, DSQ, SLICE, enqFlags);
                int cpu = scx_bpf_pick_idle_cpu(p.cpusPtr(), 0);
                if (cpu >= 0) {
                    scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
                }
                return;
            }
            super.enqueue(p, enqFlags);
        }

        @Override
        public void cpuRelease(int cpu, CpuReleaseArgs args) {
            released.incrementAndGet();
            scx_bpf_reenqueue_local();
        }

        @Override
        public void cpuAcquire(int cpu, CpuAcquireArgs args) {
            acquired.incrementAndGet();
        }
    }

    /** A task that passes a token to its peer and blocks until it gets it back. */
    private static Behavior pingPong(Kernel k, AtomicBoolean mine, AtomicBoolean peers, Task[] peer, long runNs) {
        boolean[] ran = new boolean[1];
        return (self, step, now) -> {
            if (ran[0]) {
                ran[0] = false;
                peers.set(true);
                k.wakeUpProcess(peer[0]);
            }
            k.prepareToWait(self);
            if (mine.getAndSet(false)) {
                k.finishWait(self);
                ran[0] = true;
                step.run(runNs);
            } else {
                step.block();
            }
        };
    }

    private static List<Task> spawn(Kernel k, int cpus) {
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < 2 * cpus; i++) {
            tasks.add(k.fork(new Kernel.TaskSpec().comm("hog" + i).behavior(Behavior.cpuBound(300_000L))));
        }
        for (int i = 0; i < cpus; i++) {
            tasks.add(k.fork(new Kernel.TaskSpec().comm("sleeper" + i)
                    .behavior(Stepped.sleeper(200_000L, 500_000L + 100_000L * i))));
        }
        for (int i = 0; i < cpus / 2; i++) {
            int cpu = 1 + i % (cpus - 1);
            tasks.add(k.fork(new Kernel.TaskSpec().comm("pinned" + i).allowed(CpuMask.of(cpu)).cpu(cpu)
                    .behavior(Behavior.cpuBound(400_000L))));
        }
        List<AtomicBoolean> firstTokens = new ArrayList<>();
        List<Task> firsts = new ArrayList<>();
        for (int i = 0; i < cpus / 2; i++) {
            AtomicBoolean ta = new AtomicBoolean();
            AtomicBoolean tb = new AtomicBoolean();
            Task[] peerOfA = new Task[1];
            Task[] peerOfB = new Task[1];
            Task a = k.fork(new Kernel.TaskSpec().comm("ping" + i).behavior(pingPong(k, ta, tb, peerOfA, 150_000L)));
            Task b = k.fork(new Kernel.TaskSpec().comm("pong" + i).behavior(pingPong(k, tb, ta, peerOfB, 150_000L)));
            peerOfA[0] = b;
            peerOfB[0] = a;
            tasks.add(a);
            tasks.add(b);
            firstTokens.add(ta);
            firsts.add(a);
        }
        // both sides of each pair block first; now hand the token to one side
        for (int i = 0; i < firsts.size(); i++) {
            firstTokens.get(i).set(true);
            k.wakeUpProcess(firsts.get(i));
        }
        return tasks;
    }

    /** Locks every rq in CPU order and checks that no task is current on two CPUs. */
    private static int sample(Kernel k) {
        int n = k.nrCpus();
        Map<Task, Integer> seen = new IdentityHashMap<>();
        int busy = 0;
        for (int c = 0; c < n; c++) {
            k.rq(c).lock.lock();
        }
        try {
            for (int c = 0; c < n; c++) {
                Rq rq = k.rq(c);
                Task curr = rq.curr;
                if (curr == rq.idle) {
                    continue;
                }
                busy++;
                Integer other = seen.put(curr, c);
                if (other != null) {
                    fail(curr + " is current on CPU " + other + " and CPU " + c);
                }
                assertEquals(c, curr.cpu(), "task_cpu() of the current task of CPU " + c);
                assertTrue(curr.laOnCpu(), curr + " is current but not on_cpu");
            }
        } finally {
            for (int c = n - 1; c >= 0; c--) {
                k.rq(c).lock.unlock();
            }
        }
        return busy;
    }

    /** Samples for {@code ns} of host time; returns how many samples saw a busy CPU. */
    private static int sampleFor(Machine m, long ns) {
        long end = System.nanoTime() + ns;
        int busySamples = 0;
        while (System.nanoTime() < end) {
            if (sample(m.kernel()) > 0) {
                busySamples++;
            }
            assertNull(m.kernel().bug(), () -> "kernel BUG: " + m.kernel().bug());
            LockSupport.parkNanos(500_000L);
        }
        return busySamples;
    }

    private static Map<Task, Long> runtimes(List<Task> tasks) {
        Map<Task, Long> r = new HashMap<>();
        for (Task p : tasks) {
            r.put(p, p.sumExecRuntime());
        }
        return r;
    }

    private static void assertAllProgressed(List<Task> tasks, Map<Task, Long> before, String when) {
        List<String> stuck = new ArrayList<>();
        for (Task p : tasks) {
            if (p.sumExecRuntime() <= before.get(p)) {
                stuck.add(p + "(" + p.schedClass() + ", cpu " + p.cpu() + ", dsq 0x" + Long.toHexString(p.scx.dsqId())
                        + ", opss " + p.scx.opsState() + ")");
            }
        }
        assertTrue(stuck.isEmpty(), "tasks that made no progress " + when + ": " + stuck);
    }

    private void run(int cpus, MtSched sched) {
        try (Machine m = Machine.threaded(cpus)) {
            Kernel k = m.kernel();
            assertEquals(0, m.load(sched));
            m.start();
            List<Task> tasks = spawn(k, cpus);
            if (sched instanceof MtRelSched) {
                // RT tasks waking in bursts on every CPU take the CPUs away from ext
                for (int c = 0; c < cpus; c++) {
                    tasks.add(k.fork(new Kernel.TaskSpec().comm("rt" + c).policy(Task.SCHED_FIFO)
                            .allowed(CpuMask.of(c)).cpu(c).behavior(Stepped.sleeper(300_000L, 2_000_000L))));
                }
            }
            for (Task p : tasks) {
                assertTrue(p != null, "fork failed");
            }
            assertTrue(sampleFor(m, 300_000_000L) > 0);
            Map<Task, Long> t1 = runtimes(tasks);
            sampleFor(m, 700_000_000L);
            assertEquals(SCX_EXIT_NONE, m.ext().exitKind(), () -> "ejected: " + m.ext().exitInfo().msg()
                    + "\n" + m.ext().exitInfo().dump());
            assertAllProgressed(tasks, t1, "under sched_ext");
            for (Task p : tasks) {
                assertEquals(p.policy() == Task.SCHED_FIFO ? SchedClass.RT : SchedClass.EXT, p.schedClass(),
                        p.toString());
            }
            if (sched instanceof MtRelSched) {
                MtRelSched r = (MtRelSched) sched;
                assertTrue(r.released.get() > 0, "no cpu_release");
                assertTrue(r.acquired.get() > 0, "no cpu_acquire");
                assertTrue(k.reenqueuedTasks() > 0 && r.reenq.get() > 0, "nothing re-enqueued");
            }
            assertTrue(sched.localOn.get() > 0, "no SCX_DSQ_LOCAL_ON dispatch happened");
            assertTrue(sched.consumed.get() > 0, "no consume happened");
            assertTrue(sched.spurious.get() > 0, "no spurious dispatch happened");
            assertTrue(k.opCalls()[ScxOp.DISPATCH.ordinal()] > 0);
            assertTrue(k.kfuncCalls()[Kfunc.KICK_CPU.ordinal()] > 0);

            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName(), m.ext().exitInfo().msg());
            for (Task p : tasks) {
                if (p.policy() == Task.SCHED_FIFO) {
                    continue;
                }
                assertEquals(SchedClass.FAIR, p.schedClass(), p + " not back on fair");
                assertEquals(SCX_TASK_NONE, p.scx.taskState(), p.toString());
            }
            Map<Task, Long> t2 = runtimes(tasks);
            sampleFor(m, 400_000_000L);
            assertAllProgressed(tasks, t2, "after the unload");
            assertNull(k.bug());
        }
    }

    /** Counts init_task / exit_task / enable / disable per task, from any thread. */
    static final class ChurnSched extends MtSched {
        final ConcurrentHashMap<Task, AtomicInteger> init = new ConcurrentHashMap<>();
        final ConcurrentHashMap<Task, AtomicInteger> exit = new ConcurrentHashMap<>();
        final AtomicLong enables = new AtomicLong();
        final AtomicLong disables = new AtomicLong();

        @Override
        public String name() {
            return "churn";
        }

        @Override
        public int initTask(Task p, InitTaskArgs args) {
            init.computeIfAbsent(p, k -> new AtomicInteger()).incrementAndGet();
            return 0;
        }

        @Override
        public void exitTask(Task p, ExitTaskArgs args) {
            exit.computeIfAbsent(p, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void enable(Task p) {
            enables.incrementAndGet();
        }

        @Override
        public void disable(Task p) {
            disables.incrementAndGet();
        }
    }

    /**
     * Tasks fork short-lived children from their CPU threads while the scheduler is loaded, and the
     * scheduler is unloaded in the middle of the churn: init_task / exit_task stay paired.
     */
    @Test
    void forkExitChurnAndUnloadMidway() {
        try (Machine m = Machine.threaded(4)) {
            Kernel k = m.kernel();
            ChurnSched sched = new ChurnSched();
            assertEquals(0, m.load(sched));
            m.start();
            AtomicLong forked = new AtomicLong();
            AtomicLong refused = new AtomicLong();
            List<Task> spawners = startSpawners(k, 3, forked, refused);
            sampleFor(m, 500_000_000L);
            assertEquals(SCX_EXIT_NONE, m.ext().exitKind(), () -> m.ext().exitInfo().msg());
            assertTrue(forked.get() > 50, "children forked: " + forked.get());
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            long forkedAtUnload = forked.get();
            sampleFor(m, 300_000_000L);
            assertTrue(forked.get() > forkedAtUnload, "forks continue on fair");
            assertEquals(0, refused.get());
            assertNull(k.bug(), () -> "kernel BUG: " + k.bug());
            for (Task p : k.tasks()) {
                assertEquals(SchedClass.FAIR, p.schedClass(), p.toString());
            }
            // every task initialised by the scheduler was exited exactly once
            assertPaired(sched, 0);
            for (Task p : spawners) {
                assertTrue(p.sumExecRuntime() > 0);
            }
        }
    }

    private static List<Task> startSpawners(Kernel k, int n, AtomicLong forked, AtomicLong refused) {
        List<Task> spawners = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int id = i;
            spawners.add(k.fork(new Kernel.TaskSpec().comm("spawner" + i).behavior((self, step, now) -> {
                if (k.tasks().size() < 80) {
                    long life = 50_000L * (1 + ThreadLocalRandom.current().nextInt(20));
                    Task c = k.fork(new Kernel.TaskSpec().comm("child" + id).behavior(Stepped.runThenExit(life)));
                    if (c == null) {
                        refused.incrementAndGet();
                    } else {
                        forked.incrementAndGet();
                    }
                }
                step.run(100_000L);
            })));
        }
        return spawners;
    }

    private static void assertPaired(ChurnSched sched, int cycle) {
        List<String> bad = new ArrayList<>();
        for (Map.Entry<Task, AtomicInteger> e : sched.init.entrySet()) {
            AtomicInteger x = sched.exit.get(e.getKey());
            if (e.getValue().get() != 1 || x == null || x.get() != 1) {
                bad.add(e.getKey() + " init_task x" + e.getValue().get() + " exit_task x" + (x == null ? 0 : x.get())
                        + (e.getKey().isDead() ? " (dead)" : ""));
            }
        }
        for (Map.Entry<Task, AtomicInteger> e : sched.exit.entrySet()) {
            if (!sched.init.containsKey(e.getKey())) {
                bad.add(e.getKey() + " exit_task without init_task");
            }
        }
        assertTrue(bad.isEmpty(), "cycle " + cycle + ": init_task / exit_task not paired: " + bad);
        assertEquals(sched.enables.get(), sched.disables.get(), "cycle " + cycle + ": enable / disable");
    }

    /**
     * Loads and unloads a scheduler again and again while tasks fork and exit on every CPU:
     * each task the scheduler initialised gets exactly one exit_task, including tasks that die
     * while the scheduler is being enabled or disabled.
     */
    @Test
    void loadUnloadCyclesDuringForkExitChurn() {
        try (Machine m = Machine.threaded(4)) {
            Kernel k = m.kernel();
            m.start();
            AtomicLong forked = new AtomicLong();
            AtomicLong refused = new AtomicLong();
            startSpawners(k, 4, forked, refused);
            sampleFor(m, 100_000_000L);
            for (int cycle = 0; cycle < 25; cycle++) {
                ChurnSched sched = new ChurnSched();
                assertEquals(0, m.load(sched), "cycle " + cycle);
                sampleFor(m, 40_000_000L);
                m.unload();
                assertEquals("UNREG", m.ext().exitInfo().kindName(), m.ext().exitInfo().msg());
                sampleFor(m, 10_000_000L);
                assertPaired(sched, cycle);
            }
            assertEquals(0, refused.get());
            assertTrue(forked.get() > 100, "children forked: " + forked.get());
            assertNull(k.bug(), () -> "kernel BUG: " + k.bug());
            assertTrue(m.ext().dmesg().stream().noneMatch(l -> l.contains("Invalid task state transition")),
                    () -> String.join("\n", m.ext().dmesg()));
        }
    }

    /**
     * scx_pair's pattern on threads: CPU 0 kicks the other CPUs with SCX_KICK_PREEMPT |
     * SCX_KICK_WAIT from ops.tick() (no cycles: only CPU 0 waits). Every wait ends, every task
     * progresses.
     */
    @Test
    void kickWaitFromOneCpuOnThreads() {
        try (Machine m = Machine.threaded(4)) {
            Kernel k = m.kernel();
            AtomicLong kicks = new AtomicLong();
            MtSched sched = new MtSched() {
                @Override
                public String name() {
                    return "kick_wait";
                }

                @Override
                public void tick(Task p) {
                    if (bpf_get_smp_processor_id() == 0) {
                        int target = 1 + (int) (kicks.getAndIncrement() % (scx_bpf_nr_cpu_ids() - 1));
                        scx_bpf_kick_cpu(target, SCX_KICK_PREEMPT | SCX_KICK_WAIT);
                    }
                }
            };
            assertEquals(0, m.load(sched));
            m.start();
            List<Task> tasks = spawn(k, 4);
            sampleFor(m, 200_000_000L);
            Map<Task, Long> t1 = runtimes(tasks);
            sampleFor(m, 500_000_000L);
            assertEquals(SCX_EXIT_NONE, m.ext().exitKind(), () -> m.ext().exitInfo().msg());
            assertTrue(kicks.get() > 50, "kicks: " + kicks.get());
            assertAllProgressed(tasks, t1, "with CPU 0 waiting on kicks");
            m.unload();
            assertNull(k.bug(), () -> "kernel BUG: " + k.bug());
        }
    }

    @Test
    void fourCpus() {
        run(4, new MtSched());
    }

    @Test
    void eightCpus() {
        run(8, new MtSched());
    }

    @Test
    void fourCpusWithRtPreemptionAndCpuRelease() {
        run(4, new MtRelSched());
    }
}
