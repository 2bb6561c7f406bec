// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.schedulers.SchedTestSupport.MS;
import static org.scxemu.schedulers.SchedTestSupport.awaitExit;
import static org.scxemu.schedulers.SchedTestSupport.cpuBound;
import static org.scxemu.schedulers.SchedTestSupport.fork;
import static org.scxemu.schedulers.SchedTestSupport.kf;
import static org.scxemu.schedulers.SchedTestSupport.op;
import static org.scxemu.schedulers.SchedTestSupport.runAndAssertProgress;
import static org.scxemu.schedulers.SchedTestSupport.sleeper;
import static org.scxemu.schedulers.SchedTestSupport.sleepers;
import static org.scxemu.scx.Scx.SCX_OPS_ENQ_LAST;
import static org.scxemu.scx.Scx.SCX_OPS_SWITCH_PARTIAL;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.ScxOp;
import org.scxemu.kernel.Task;

/**
 * scx_qmap on four threaded CPUs: no task lost, the seed's counters consistent with the kernel's,
 * cpu_release re-enqueueing under RT preemption (and its absence in the variant without the op),
 * and the three fault injections ending the way the kernel must end them.
 */
class ScxQmapTest {
    /** The watchdog message format "%s[%d] failed to run for %u.%03us". */
    private static final Pattern STALL_MSG = Pattern.compile("(\\S+)\\[(\\d+)\\] failed to run for \\d+\\.\\d{3}s");
    private static final Pattern STATS_LINE = Pattern.compile(
            "stats  : enq=(\\d+) dsp=(\\d+) delta=(-?\\d+) reenq=(\\d+) deq=(\\d+)");

    private static ScxQmap.Options opts() {
        return new ScxQmap.Options();
    }

    /** Tasks of every weight class (nice -10 .. 10 cover all five FIFOs), CPU-bound and sleepers. */
    private static List<Task> mixedLoad(Machine m) {
        List<Task> tasks = new ArrayList<>();
        int[] nices = {-10, -5, 0, 5, 10, 0};
        for (int i = 0; i < nices.length; i++) {
            tasks.add(fork(m, "hog" + i, nices[i], Behavior.cpuBound(500_000L)));
            tasks.add(fork(m, "sleeper" + i, nices[i], sleeper(300_000L, 700_000L)));
        }
        return tasks;
    }

    /**
     * Default options and a batching variant (-b 8, -s 3000): every task runs and keeps running;
     * after unload (UNREG), nr_dequeued equals the ops.dequeue() calls, nr_enqueued is at most the
     * ops.enqueue() calls, delta = enq - dsp equals the pids left in the FIFOs (no task died, so
     * every pid popped was dispatched), nr_reenqueued equals the kernel's re-enqueue count, and
     * the stats line has the seed's format and values.
     */
    @ParameterizedTest(name = "batch={0}")
    @ValueSource(booleans = {false, true})
    void runsEveryTaskWithConsistentStats(boolean batch) {
        ScxQmap.Options o = opts();
        if (batch) {
            o.dspBatch = 8;
            o.sliceNs = 3 * MS;
        }
        QmapCore q = ScxQmap.create(o);
        assertInstanceOf(ScxQmap.class, q);
        assertEquals("qmap", q.name());
        assertEquals(SCX_OPS_ENQ_LAST, q.flags());
        assertEquals(5000, q.timeoutMs());
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(q));
            m.start();
            List<Task> tasks = mixedLoad(m);

            runAndAssertProgress(m, tasks, 400 * MS);

            m.stop();
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            assertNotNull(q.exitInfo(), "ops.exit() did not record the exit");
            assertEquals("UNREG", q.exitInfo().kindName());
            assertNull(m.kernel().bug());

            Map<String, Long> st = q.stats();
            long enq = st.get("nr_enqueued");
            long dsp = st.get("nr_dispatched");
            assertTrue(enq > 0 && dsp > 0, "FIFOs unused: " + q.statsLine());
            assertTrue(enq <= op(m, ScxOp.ENQUEUE), "nr_enqueued > ops.enqueue() calls");
            assertEquals(op(m, ScxOp.DEQUEUE), st.get("nr_dequeued"), "nr_dequeued vs ops.dequeue() calls");
            assertEquals(q.queuedPids(), enq - dsp, "delta vs pids left in the FIFOs");
            assertEquals(m.kernel().reenqueuedTasks(), st.get("nr_reenqueued"));

            Matcher line = STATS_LINE.matcher(q.statsLine());
            assertTrue(line.matches(), q.statsLine());
            assertEquals(enq, Long.parseLong(line.group(1)));
            assertEquals(dsp, Long.parseLong(line.group(2)));
            assertEquals(enq - dsp, Long.parseLong(line.group(3)));
            assertEquals(st.get("nr_reenqueued"), Long.parseLong(line.group(4)));
            assertEquals(st.get("nr_dequeued"), Long.parseLong(line.group(5)));
        }
    }

    /** An RT task on CPU 2 that keeps waking up and preempting whatever sched_ext task runs there. */
    private static Task rtPreempter(Machine m) {
        return m.kernel().fork(new Kernel.TaskSpec().comm("rt").policy(Task.SCHED_FIFO).allowed(CpuMask.of(2)).cpu(2)
                .behavior(sleeper(2 * MS, 3 * MS)));
    }

    /**
     * With cpu_release, RT preemption of CPU 2 calls ops.cpu_release(), once per kfunc call, and
     * the tasks stranded on CPU 2's local DSQ (at least the preempted one, left at its head) are
     * re-enqueued: nr_reenqueued &gt; 0 and equal to the kernel's count. Every task keeps running.
     */
    @Test
    void cpuReleaseReenqueuesTasksOfAPreemptedCpu() {
        QmapCore q = ScxQmap.create(opts());
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(q));
            m.start();
            List<Task> tasks = new ArrayList<>(cpuBound(m, "hog", 8));
            tasks.addAll(sleepers(m, "sleeper", 2));
            tasks.add(rtPreempter(m));

            runAndAssertProgress(m, tasks, 500 * MS);

            m.stop();
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            assertNull(m.kernel().bug());
            long releases = op(m, ScxOp.CPU_RELEASE);
            long reenq = q.stats().get("nr_reenqueued");
            assertTrue(releases > 0, "ops.cpu_release() never called");
            assertEquals(releases, kf(m, Kfunc.REENQUEUE_LOCAL), "one scx_bpf_reenqueue_local() per release");
            assertTrue(reenq > 0, "nothing re-enqueued in " + releases + " releases: " + q.statsLine());
            assertEquals(m.kernel().reenqueuedTasks(), reenq);
            System.out.println("scx_qmap with RT preemption: cpu_release=" + releases + " " + q.statsLine());
        }
    }

    /**
     * cpuRelease=false gives the variant without the op: the same workload never calls
     * ops.cpu_release() or scx_bpf_reenqueue_local(), nothing is re-enqueued, and every task still
     * runs (the stranded ones wait for the RT task to sleep). The cpu_release-implementing class
     * refuses the option.
     */
    @Test
    void withoutCpuReleaseTheOpIsNeverCalled() {
        ScxQmap.Options o = opts();
        o.cpuRelease = false;
        assertThrows(IllegalArgumentException.class, () -> new ScxQmap(o));
        QmapCore q = ScxQmap.create(o);
        assertInstanceOf(ScxQmapNoCpuRelease.class, q);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(q));
            m.start();
            List<Task> tasks = new ArrayList<>(cpuBound(m, "hog", 8));
            tasks.addAll(sleepers(m, "sleeper", 2));
            tasks.add(rtPreempter(m));

            runAndAssertProgress(m, tasks, 500 * MS);

            m.stop();
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            assertNull(m.kernel().bug());
            assertEquals(0, op(m, ScxOp.CPU_RELEASE));
            assertEquals(0, kf(m, Kfunc.REENQUEUE_LOCAL));
            assertEquals(0, q.stats().get("nr_reenqueued"));
            assertEquals(0, m.kernel().reenqueuedTasks());
        }
    }

    /**
     * -t 8 with a 500 ms watchdog: every 8th enqueue of a user task is dropped, so a task stays
     * runnable without ever running and the watchdog ejects the scheduler with ERROR_STALL and
     * the kernel's message naming one of the tasks; the debug dump includes qmap's FIFOs.
     */
    @Test
    void stallInjectionEndsInErrorStall() {
        ScxQmap.Options o = opts();
        o.stallUserNth = 8;
        o.timeoutMs = 500;
        QmapCore q = ScxQmap.create(o);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(q));
            m.start();
            List<Task> tasks = new ArrayList<>(sleepers(m, "sleeper", 6));
            tasks.addAll(cpuBound(m, "hog", 2));

            assertTrue(awaitExit(m, 10_000 * MS), "no stall detected: " + q.statsLine());
            m.stop();
            ExitInfo ei = m.ext().exitInfo();
            assertEquals("ERROR_STALL", ei.kindName(), ei.msg());
            Matcher msg = STALL_MSG.matcher(ei.msg());
            assertTrue(msg.matches(), ei.msg());
            int pid = Integer.parseInt(msg.group(2));
            assertTrue(tasks.stream().anyMatch(t -> t.pid == pid && t.comm.equals(msg.group(1))),
                    "the stalled task is not one of ours: " + ei.msg());
            assertNotNull(q.exitInfo());
            assertEquals("ERROR_STALL", q.exitInfo().kindName());
            assertTrue(ei.dump().contains("QMAP FIFO[0]:"), ei.dump());
            assertNull(m.kernel().bug());
        }
    }

    /**
     * -e 100: the 100th enqueue calls scx_bpf_error("test triggering error"): ERROR_BPF with that
     * message, and the dump carries the qmap-specific FIFO, CPU and task lines.
     */
    @Test
    void errorInjectionEndsInErrorBpf() {
        ScxQmap.Options o = opts();
        o.errorAfter = 100;
        QmapCore q = ScxQmap.create(o);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(q));
            m.start();
            cpuBound(m, "hog", 6);
            sleepers(m, "sleeper", 4);

            assertTrue(awaitExit(m, 10_000 * MS), "no error: " + q.statsLine());
            m.stop();
            ExitInfo ei = m.ext().exitInfo();
            assertEquals("ERROR_BPF", ei.kindName(), ei.msg());
            assertEquals("test triggering error", ei.msg());
            assertEquals("ERROR_BPF", q.exitInfo().kindName());
            assertTrue(ei.dump().contains("QMAP FIFO[4]:"), ei.dump());
            assertTrue(ei.dump().contains("QMAP: force_local="), ei.dump());
            assertNull(m.kernel().bug());
        }
    }

    /**
     * -l 200 with a 500 ms watchdog: once 200 tasks were dispatched, ops.dispatch() only ever
     * dispatches pid 2. The core's dispatch-loop guard keeps the CPUs going (no hang, no kernel
     * BUG) while the tasks left in the FIFOs starve, and the watchdog ejects the scheduler.
     */
    @Test
    void dispatchLoopInjectionIsContainedByTheCore() {
        ScxQmap.Options o = opts();
        o.dspInfLoopAfter = 200;
        o.timeoutMs = 500;
        QmapCore q = ScxQmap.create(o);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(q));
            m.start();
            cpuBound(m, "hog", 8);
            sleepers(m, "sleeper", 4);

            assertTrue(awaitExit(m, 10_000 * MS), "FIFO tasks did not stall: " + q.statsLine());
            m.stop();
            ExitInfo ei = m.ext().exitInfo();
            assertEquals("ERROR_STALL", ei.kindName(), ei.msg());
            assertTrue(q.stats().get("nr_dispatched") > 200, q.statsLine());
            assertNull(m.kernel().bug());
        }
    }

    /**
     * Tasks that exit while others keep running: the dead ones' pids are skipped when popped
     * (bpf_task_from_pid() finds no task), the scheduler stays healthy and unloads with UNREG.
     */
    @Test
    void exitingTasksAreSkippedAndTheSchedulerStaysHealthy() {
        QmapCore q = ScxQmap.create(opts());
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(q));
            m.start();
            List<Task> stay = new ArrayList<>(cpuBound(m, "hog", 6));
            List<Task> go = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                go.add(fork(m, "brief" + i, 0, SchedTestSupport.shortLived(300_000L, 5)));
            }
            runAndAssertProgress(m, stay, 400 * MS);
            long end = System.nanoTime() + 5_000 * MS;
            while (go.stream().anyMatch(t -> !t.isDead()) && System.nanoTime() < end) {
                m.runFor(20 * MS);
            }
            for (Task t : go) {
                assertTrue(t.isDead(), t + " did not exit");
            }
            m.stop();
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            assertNull(m.kernel().bug());
        }
    }

    /** -p sets SCX_OPS_SWITCH_PARTIAL on top of SCX_OPS_ENQ_LAST; -D and the timeout pass through. */
    @Test
    void optionsMapToStructOpsFields() {
        ScxQmap.Options o = opts();
        o.switchPartial = true;
        o.exitDumpLen = 65536;
        o.timeoutMs = 1234;
        QmapCore q = ScxQmap.create(o);
        assertEquals(SCX_OPS_ENQ_LAST | SCX_OPS_SWITCH_PARTIAL, q.flags());
        assertEquals(65536, q.exitDumpLen());
        assertEquals(1234, q.timeoutMs());
        o.stallUserNth = 1L << 32;
        assertThrows(IllegalArgumentException.class, () -> ScxQmap.create(o));
        assertEquals(0, QmapCore.weightToIdx(25));
        assertEquals(1, QmapCore.weightToIdx(50));
        assertEquals(2, QmapCore.weightToIdx(199));
        assertEquals(3, QmapCore.weightToIdx(399));
        assertEquals(4, QmapCore.weightToIdx(400));
    }
}
