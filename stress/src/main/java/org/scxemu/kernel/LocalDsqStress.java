// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;
import static org.scxemu.scx.Scx.SCX_DSQ_LOCAL;
import static org.scxemu.scx.Scx.SCX_ENQ_HEAD;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * A CPU's local DSQ under its rq lock, on the emulator's own {@link Dsq} (intrusive list,
 * {@code nr} written with WRITE_ONCE), {@link ExtDispatch#dispatchEnqueue} for the remote insert and
 * {@code Ext.taskUnlinkFromDsq} (private, through a private-lookup {@link MethodHandle}) for the
 * owner's consume.
 *
 * <pre>
 *   remote CPU 1                                    owner CPU 0
 *   dispatch_to_local_dsq() / move_remote_task_     pick_next_task_scx() / set_next_task_scx():
 *   to_local_dsq(): lock(rq 0)                        lock(rq 0)
 *     dispatch_enqueue(rq0 local, p, flags)           p = first(local); dispatch_dequeue(p)
 *   unlock(rq 0)                                      unlock(rq 0)
 *                       the rq lock serializes both; nr is also read lock-free (READ_ONCE)
 * </pre>
 *
 * <p>Invariants (checked at quiescence by the {@code @Arbiter}): no task lost or duplicated
 * (consumed + still queued = inserted, each once), {@code nr} never negative and equal to the
 * number of linked tasks, FIFO per producer, {@code SCX_ENQ_HEAD} puts the task first.
 *
 * <p>Set-up: each state owns its own local {@link Dsq} ({@code new Dsq(SCX_DSQ_LOCAL, rq 0)}: the
 * real class, whose guard is the shared {@code KERNEL.rq(0)} lock) and tasks. No scheduler is
 * loaded. {@code dispatchEnqueue} asks rq 0 to reschedule (a volatile flag; no thread is
 * attached): racy but benign across states.
 *
 * <p>Not covered here: {@code scx_bpf_reenqueue_local()}'s snapshot ({@link ExtDispatch#reenqueueLocal})
 * re-enqueues through {@code do_enqueue_task()} → {@code ops.enqueue()}, which needs a loaded
 * scheduler (one per JVM) and the real {@code rq->scx.local_dsq}, so per-state DSQs cannot be
 * used. The hook it needs: a package-private {@code reenqueueLocal(ExecCtx, Dsq, Consumer<Task>)}
 * overload taking the DSQ and the re-enqueue action.
 *
 * <p>How to run (after {@code mvn -B -ntp package -DskipTests}):
 * <pre>
 *   java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t LocalDsqStress
 * </pre>
 *
 * <p>Teeth: the model-checking twin {@code LocalDsqLincheckTest} asserts in the build that an insert
 * without the rq lock ({@code BrokenLocalDsq}) is rejected. No jcstress broken variant yet: an
 * unlocked insert racing a locked consume corrupts the list, a logic race x86 shows as readily as
 * any machine; {@code nr}'s WRITE_ONCE cannot be weakened visibly on x86 (single-word stores).
 *
 * <h2>Observed</h2>
 * JDK 17.0.15 (Debian), 2-core AMD EPYC KVM guest (x86-64), jcstress 0.16, 2026-11-25, other builds
 * sharing the machine. CI's quick mode ({@code -m quick -sc false}, both biased-locking
 * configurations summed; what {@code run-jcstress.sh} runs; the whole 9-test suite in 35 to 50 s).
 * Only observed states are listed: every FORBIDDEN row, including the catch-all, saw 0 samples.
 * <pre>
 * LocalDsqStress.HeadInsert  [OK]
 *   2, 31, 2       579,781   61.29%  Acceptable  consume after the HEAD insert: 2 was first
 *   3, 21, 2       366,209   38.71%  Acceptable  consume before the HEAD insert: 2 goes in front of 1
 * LocalDsqStress.RemoteInsertVsConsume  [OK]
 *   0, 0, 2, 12       104,476   28.41%  Acceptable  both consumes before the inserts: 1, 2 left in order
 *    0, 1, 1, 2           495    0.13%  Acceptable  empty, insert 1, consume 1, insert 2
 *    1, 0, 1, 2           428    0.12%  Acceptable  insert 1, consume 1, empty, insert 2
 *    1, 2, 0, 0       262,405   71.34%  Acceptable  each consume after its insert: all consumed, FIFO
 * </pre>
 * Default mode (1 normal + 5 stress forks, split compilation, 5 x 1 s iterations; all 7 new tests
 * together in 13 min 56 s, sharing the machine with other builds):
 * <pre>
 * LocalDsqStress.HeadInsert  [OK]
 *   2, 31, 2    26,983,722   51.16%  Acceptable  consume after the HEAD insert: 2 was first
 *   3, 21, 2    25,756,716   48.84%  Acceptable  consume before the HEAD insert: 2 goes in front of 1
 * LocalDsqStress.RemoteInsertVsConsume  [OK]
 *   0, 0, 2, 12    23,092,703   30.95%  Acceptable  both consumes before the inserts: 1, 2 left in order
 *    0, 1, 1, 2       229,727    0.31%  Acceptable  empty, insert 1, consume 1, insert 2
 *    1, 0, 1, 2       121,571    0.16%  Acceptable  insert 1, consume 1, empty, insert 2
 *    1, 2, 0, 0    51,169,077   68.58%  Acceptable  each consume after its insert: all consumed, FIFO
 * </pre>
 */
public final class LocalDsqStress {
    private LocalDsqStress() {
    }

    /** The kernel every state hangs off. CPU 0 owns the local DSQ, CPU 1 inserts remotely. */
    static final Kernel KERNEL = new Kernel(2, new Clock.Manual());

    /** ext.c: task_unlink_from_dsq(), private in {@link Ext}. */
    static final MethodHandle TASK_UNLINK_FROM_DSQ;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.privateLookupIn(ExtDispatch.class, MethodHandles.lookup());
            TASK_UNLINK_FROM_DSQ = l.findVirtual(ExtDispatch.class, "taskUnlinkFromDsq",
                    MethodType.methodType(void.class, Task.class, Dsq.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static Task task(int pid) {
        return new Task(pid, "t" + pid, Task.SCHED_EXT, 0, false, CpuMask.of(0, 1), null, 0);
    }

    /** CPU 1 inserts p into CPU 0's local DSQ under rq 0's lock, as dispatch_to_local_dsq() does. */
    static void remoteInsert(Dsq local, Task p, long enqFlags) {
        Rq rq = local.rq;
        rq.lock.lock();
        try {
            KERNEL.ext.dispatch.dispatchEnqueue(local, p, enqFlags);
        } finally {
            rq.lock.unlock();
        }
    }

    /**
     * CPU 0 takes the first task of its local DSQ under its rq lock: dispatch_dequeue()'s local
     * branch (holding_cpu is never set on a local DSQ task). Returns its pid, 0 if empty.
     */
    static int consume(Dsq local) {
        Rq rq = local.rq;
        rq.lock.lock();
        try {
            Task p = local.first();
            if (p == null) {
                return 0;
            }
            TASK_UNLINK_FROM_DSQ.invokeExact(KERNEL.ext.dispatch, p, local);
            p.scx.dsq = null;
            return p.pid;
        } catch (Throwable t) {
            throw new AssertionError(t);
        } finally {
            rq.lock.unlock();
        }
    }

    /**
     * The DSQ's contents at quiescence as decimal digits, head first (0 if empty), or -1 if the
     * list and {@code nr} disagree, a task points at another DSQ, or the back links are broken.
     */
    static int contents(Dsq local) {
        int digits = 0;
        int n = 0;
        Task prev = null;
        for (Task p = local.first(); p != null; p = p.scx.dsqNext) {
            if (p.scx.dsq != local || p.scx.dsqPrev != prev) {
                return -1;
            }
            digits = digits * 10 + p.pid;
            n++;
            prev = p;
        }
        return n == local.lpNr() && local.tail == prev ? digits : -1;
    }

    /**
     * CPU 1 inserts task 1 then task 2 (two lock sections, FIFO); CPU 0 consumes twice. Result:
     * r1, r2 = pids CPU 0 consumed (0 = empty), r3 = {@code nr} at the end, r4 = what is left.
     */
    @JCStressTest
    @Outcome(id = "0, 0, 2, 12", expect = ACCEPTABLE, desc = "both consumes before the inserts: 1, 2 left in order")
    @Outcome(id = "0, 1, 1, 2",  expect = ACCEPTABLE, desc = "empty, insert 1, consume 1, insert 2")
    @Outcome(id = "1, 0, 1, 2",  expect = ACCEPTABLE, desc = "insert 1, consume 1, empty, insert 2")
    @Outcome(id = "1, 2, 0, 0",  expect = ACCEPTABLE, desc = "each consume after its insert: all consumed, FIFO")
    @Outcome(id = "2, .*",       expect = FORBIDDEN,  desc = "task 2 overtook task 1: FIFO per producer broken")
    @Outcome(expect = FORBIDDEN,                      desc = "a task lost or duplicated, or nr != contents")
    @State
    public static class RemoteInsertVsConsume {
        final Dsq local = new Dsq(SCX_DSQ_LOCAL, KERNEL.rq(0));
        final Task t1 = task(1);
        final Task t2 = task(2);

        @Actor
        public void remote() {
            remoteInsert(local, t1, 0);
            remoteInsert(local, t2, 0);
        }

        @Actor
        public void owner(IIII_Result r) {
            r.r1 = consume(local);
            r.r2 = consume(local);
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            r.r3 = local.lpNr();
            r.r4 = contents(local);
        }
    }

    /**
     * The DSQ holds task 3; CPU 1 inserts task 1 at the tail, then task 2 with {@code SCX_ENQ_HEAD};
     * CPU 0 consumes once. Result: r1 = consumed pid, r2 = what is left, r3 = {@code nr}.
     */
    @JCStressTest
    @Outcome(id = "3, 21, 2", expect = ACCEPTABLE, desc = "consume before the HEAD insert: 2 goes in front of 1")
    @Outcome(id = "2, 31, 2", expect = ACCEPTABLE, desc = "consume after the HEAD insert: 2 was first")
    @Outcome(id = "1, .*",    expect = FORBIDDEN,  desc = "the tail insert came out first")
    @Outcome(expect = FORBIDDEN,                   desc = "SCX_ENQ_HEAD ignored, a task lost or nr != contents")
    @State
    public static class HeadInsert {
        final Dsq local = new Dsq(SCX_DSQ_LOCAL, KERNEL.rq(0));
        final Task t1 = task(1);
        final Task t2 = task(2);

        public HeadInsert() {
            remoteInsert(local, task(3), 0);
        }

        @Actor
        public void remote() {
            remoteInsert(local, t1, 0);
            remoteInsert(local, t2, SCX_ENQ_HEAD);
        }

        @Actor
        public void owner(III_Result r) {
            r.r1 = consume(local);
        }

        @Arbiter
        public void arbiter(III_Result r) {
            r.r2 = contents(local);
            r.r3 = local.lpNr();
        }
    }
}
