// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * The {@code holding_cpu} handshake: a cross-CPU move of a task from a DSQ against a dequeue of
 * that task, on the emulator's own {@link ExtDispatch#unlinkDsqAndLockSrcRq} (ext.c
 * {@code unlink_dsq_and_lock_src_rq()}, the migrating half of {@code consume_remote_task()}) and
 * {@link ExtDispatch#dispatchDequeue} (ext.c {@code dispatch_dequeue()}, the dequeuing half).
 *
 * <pre>
 *   consumer, CPU 1 (consume_dispatch_q)            dequeue, CPU 0 (p's rq)
 *   lock(dsq); p is first                           lock(rq 0)
 *   unlink_dsq_and_lock_src_rq():                   dispatch_dequeue(rq 0, p):
 *     unlink p; holding_cpu = 1; unlock(dsq)          lock(dsq)
 *     lock(rq 0)                                      holding_cpu &lt; 0 ? unlink p
 *     won = holding_cpu == 1                                        : holding_cpu = -1 (you lost)
 *   won: move_remote_task_to_local_dsq():             p->scx.dsq = NULL; unlock(dsq)
 *     deactivate_task() -&gt; dispatch_dequeue()      unlock(rq 0)
 *   unlock(rq 0)
 * </pre>
 *
 * <p>Invariant: exactly one side takes the task off the DSQ and owns it: the consumer wins only
 * if no dequeue ran between its unlink and its re-check under rq 0's lock; a dequeue that sees the
 * task still queued either unlinks it (the consumer then never finds it) or resets
 * {@code holding_cpu} (the consumer then loses). Never both: "consumer won" and "dequeue saw the
 * task queued" together is FORBIDDEN. At quiescence the task is on no DSQ, {@code nr == 0},
 * {@code holding_cpu == -1}.
 *
 * <p>Set-up: every state owns a user {@link Dsq} (its own lock) and a task on CPU 0, queued with
 * the real {@link ExtDispatch#dispatchEnqueue}; all states share one 2-CPU kernel (a Kernel costs ~48 us
 * and ~1 MB) and so rq 0's lock, which both sides take as the kernel does. No scheduler is loaded:
 * neither half calls an op. The winner's move is the part of move_remote_task_to_local_dsq() that
 * touches this protocol (deactivate_task()'s dispatch_dequeue()); activating the task on CPU 1 is
 * left out because it is not part of the handshake.
 *
 * <p>How to run (after {@code mvn -B -ntp package -DskipTests}):
 * <pre>
 *   java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t HoldingCpuStress
 * </pre>
 *
 * <p>Teeth: {@code BrokenHoldingCpuStress} (test tree, never in jcstress.jar) is the same race with
 * a consumer that does not re-check {@code holding_cpu} after taking rq 0's lock: its FORBIDDEN
 * "1, 1, 0, -1" shows in 3.8-6.0 % of samples in quick mode (table in its header).
 *
 * <h2>Observed</h2>
 * Quick mode ({@code bash stress/run-jcstress.sh -t HoldingCpuStress}), JDK 17.0.15, 2-core x86-64
 * KVM guest, 2026-11-25; every acceptable interleaving seen, nothing else:
 * <pre>
 *   JVM options                     0, 1, 0, -1   1, 0, 0, -1   2, 1, 0, -1
 *   -XX:+UseBiasedLocking             205,782       635,515     2,443,714
 *   -XX:-UseBiasedLocking             203,536       494,029     2,208,566
 * </pre>
 */
public class HoldingCpuStress {
    static final Kernel KERNEL = new Kernel(2, new Clock.Manual());
    static final Ext EXT = KERNEL.ext;
    static final Rq RQ0 = KERNEL.rq(0);

    /** consumer's result */
    static final int LOST = 0;
    static final int WON = 1;
    static final int NOT_FOUND = 2;

    @JCStressTest
    @Outcome(id = "1, 0, 0, -1", expect = ACCEPTABLE, desc = "consumer unlinked, re-checked and won; the dequeue "
            + "found the task already gone")
    @Outcome(id = "0, 1, 0, -1", expect = ACCEPTABLE, desc = "consumer unlinked; the dequeue reset holding_cpu "
            + "before the consumer's re-check: consumer lost")
    @Outcome(id = "2, 1, 0, -1", expect = ACCEPTABLE, desc = "the dequeue unlinked the task first; the consumer "
            + "never found it")
    @Outcome(id = "1, 1, 0, -1", expect = FORBIDDEN, desc = "both own the task: consumer won although the dequeue "
            + "saw it queued")
    @Outcome(expect = FORBIDDEN, desc = "anything else: task left on the DSQ, nr wrong, holding_cpu not reset")
    @State
    public static class MoveVsDequeue {
        final Dsq dsq = new Dsq(0x5eedL, null);
        final Task p = new Task(7, "p", Task.SCHED_EXT, 0, false, CpuMask.of(0, 1), null, 0);

        public MoveVsDequeue() {
            EXT.dispatch.dispatchEnqueue(dsq, p, 0);
        }

        @Actor
        public void consumer(IIII_Result r) {
            dsq.lock.lock();
            if (dsq.first() != p) {
                dsq.lock.unlock();
                r.r1 = NOT_FOUND;
                return;
            }
            boolean won = EXT.dispatch.unlinkDsqAndLockSrcRq(p, dsq, RQ0, 1); // dsq unlocked, rq 0 locked
            try {
                if (won) {
                    EXT.dispatch.dispatchDequeue(RQ0, p); // move_remote_task_to_local_dsq(): deactivate_task()
                }
            } finally {
                RQ0.lock.unlock();
            }
            r.r1 = won ? WON : LOST;
        }

        @Actor
        public void dequeue(IIII_Result r) {
            RQ0.lock.lock();
            try {
                r.r2 = p.scx.dsq != null ? 1 : 0;
                EXT.dispatch.dispatchDequeue(RQ0, p);
            } finally {
                RQ0.lock.unlock();
            }
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            dsq.lock.lock();
            try {
                r.r3 = dsq.lpNr() + (p.scx.dsq != null ? 100 : 0) + (dsq.first() != null ? 1000 : 0);
            } finally {
                dsq.lock.unlock();
            }
            r.r4 = p.scx.readOnceHoldingCpu();
        }
    }
}
