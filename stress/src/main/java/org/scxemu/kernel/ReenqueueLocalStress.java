// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;
import static org.scxemu.scx.Scx.SCX_DSQ_LOCAL;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The seed's {@code scx_bpf_reenqueue_local()} snapshot against a remote insert into the same
 * local DSQ, on the emulator's own {@link ExtDispatch#reenqueueSnapshot} (the body of
 * {@link ExtDispatch#reenqueueLocal}: snapshot {@code nr}, then take the first task that many times) and
 * {@link ExtDispatch#dispatchEnqueue}.
 *
 * <pre>
 *   CPU 0: ops.cpu_release()                          CPU 1: dispatch_to_local_dsq(rq 0)
 *   lock(rq 0)                                        lock(rq 0)
 *   nr = local.nr                      (snapshot)       dispatch_enqueue(local 0, q)
 *   repeat nr times: p = first(local);                unlock(rq 0)
 *     dispatch_dequeue(p); ops.enqueue(p, REENQ)
 *       -&gt; the scheduler sends p straight back to SCX_DSQ_LOCAL (tail)
 *   unlock(rq 0)
 * </pre>
 *
 * <p>Invariant: the loop runs exactly the snapshot's count (2 or 3, depending on whether the remote
 * insert came first) even though every re-enqueued task lands back on the same DSQ, so it always
 * ends; no task is lost or duplicated: at quiescence the DSQ holds a, b, q once each, in that order,
 * and {@code nr == 3}.
 *
 * <p>Set-up: every state owns a local {@link Dsq} of the shared 2-CPU kernel's rq 0 (the real class;
 * its guard is rq 0's lock, which both actors take as the kernel does) holding tasks a and b. The
 * re-enqueue action is the "dispatch straight back to SCX_DSQ_LOCAL" verdict the seed's snapshot
 * exists for, applied with the real {@code dispatchEnqueue}; no scheduler is loaded.
 *
 * <p>How to run (after {@code mvn -B -ntp package -DskipTests}):
 * <pre>
 *   java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t ReenqueueLocalStress
 * </pre>
 *
 * <p>Teeth: {@code BrokenReenqueueLocalStress} (test tree) re-reads {@code nr} every round instead
 * of snapshotting it; capped at 10 rounds so it reports instead of hanging, every sample is
 * FORBIDDEN ("10, 3, ..."). A lost or doubled task shows as a FORBIDDEN arbiter outcome.
 *
 * <h2>Observed</h2>
 * Quick mode ({@code bash stress/run-jcstress.sh -t ReenqueueLocalStress}), JDK 17.0.15, 2-core
 * x86-64 KVM guest, 2026-11-25; both interleavings seen, nothing else:
 * <pre>
 *   JVM options                2, 3, 123     3, 3, 123
 *   -XX:+UseBiasedLocking        910,419       111,552
 *   -XX:-UseBiasedLocking        892,423       139,788
 * </pre>
 */
public class ReenqueueLocalStress {
    static final Kernel KERNEL = new Kernel(2, new Clock.Manual());
    static final Ext EXT = KERNEL.ext;
    static final Rq RQ0 = KERNEL.rq(0);

    /** The verdict the snapshot guards against: straight back to this CPU's local DSQ. */
    static final ExtDispatch.Reenqueuer BACK_TO_LOCAL =
        (ext, ctx, rq, dsq, p) -> ext.dispatch.dispatchEnqueue(dsq, p, 0);

    @JCStressTest
    @Outcome(id = "3, 3, 123", expect = ACCEPTABLE, desc = "remote insert first: the snapshot takes a, b, q; "
            + "all come back in order")
    @Outcome(id = "2, 3, 123", expect = ACCEPTABLE, desc = "reenqueue first: a, b come back, then q is appended")
    @Outcome(expect = FORBIDDEN, desc = "anything else: the loop ran past its snapshot, or a task was lost, "
            + "doubled or reordered")
    @State
    public static class SnapshotVsRemoteInsert {
        final Dsq local = new Dsq(SCX_DSQ_LOCAL, RQ0);
        final Task a = task(1);
        final Task b = task(2);
        final Task q = task(3);

        public SnapshotVsRemoteInsert() {
            RQ0.lock.lock();
            try {
                EXT.dispatch.dispatchEnqueue(local, a, 0);
                EXT.dispatch.dispatchEnqueue(local, b, 0);
            } finally {
                RQ0.lock.unlock();
            }
        }

        Task task(int pid) {
            return new Task(pid, "t" + pid, Task.SCHED_EXT, 0, false, CpuMask.of(0, 1), null, 0);
        }

        @Actor
        public void cpuRelease(III_Result r) {
            RQ0.lock.lock();
            try {
                r.r1 = EXT.dispatch.reenqueueSnapshot(RQ0.ctx, RQ0, local, BACK_TO_LOCAL);
            } finally {
                RQ0.lock.unlock();
            }
        }

        @Actor
        public void remoteInsert() {
            RQ0.lock.lock();
            try {
                EXT.dispatch.dispatchEnqueue(local, q, 0);
            } finally {
                RQ0.lock.unlock();
            }
        }

        @Arbiter
        public void arbiter(III_Result r) {
            RQ0.lock.lock();
            try {
                r.r2 = local.lpNr();
                int order = 0;
                int n = 0;
                for (Task t = local.first(); t != null && n < 10; t = t.scx.dsqNext, n++) {
                    order = order * 10 + t.pid;
                }
                r.r3 = n == local.lpNr() ? order : -order;
            } finally {
                RQ0.lock.unlock();
            }
        }
    }
}
