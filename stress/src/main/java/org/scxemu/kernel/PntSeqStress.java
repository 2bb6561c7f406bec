// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * The {@code pnt_seq} handshake of {@code SCX_KICK_WAIT}, on the emulator's own
 * {@link Rq.ScxRq} ({@code soPntSeq} / {@code getPntSeqAcquire}) and {@link ExtKick#pollKickWait}.
 *
 * <pre>
 *   target CPU (owner of rq->scx.pnt_seq)           kicking CPU
 *   -------------------------------------           -----------
 *   writes under its rq lock (balance_scx():        scx_bpf_kick_cpu(t, SCX_KICK_WAIT)
 *     rq->scx fields, put_prev, ...)                kick_one_cpu(): pseqs[t] = pnt_seq  (t's rq lock)
 *                                                   kick_cpus_irq_workfn():
 *   scx_next_task_picked():                           while (smp_load_acquire(&amp;t->pnt_seq)
 *     smp_store_release(&amp;pnt_seq, pnt_seq + 1) ----&gt;          == pseqs[t])
 *                        release                  acquire   cpu_relax();
 *                                                   // everything t wrote before its pick is visible
 * </pre>
 *
 * <p>Invariants:
 * <ul>
 *   <li>{@link ReleaseAcquire}: a kicker that reads the new {@code pnt_seq} with acquire sees
 *       every plain write the target made before the release store. "Saw the new seq, missed the
 *       write" is FORBIDDEN.
 *   <li>{@link KickWait}: the {@code SCX_KICK_WAIT} spin ({@link ExtKick#pollKickWait}) ends once the
 *       target passes through a pick: a waiter that never sees the bump (a hoisted or cached load)
 *       is FORBIDDEN ({@code STALE}).
 * </ul>
 *
 * <p>How to run (after {@code mvn -B -ntp package -DskipTests}):
 * <pre>
 *   java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t PntSeqStress
 * </pre>
 * CI runs it with the rest of the suite in quick mode ({@code stress/run-jcstress.sh}).
 *
 * <h2>Why the states share one kernel</h2>
 * A {@code Kernel} with 2 CPUs costs about 48 us and 1 MB to build (each {@code Rq} carries two
 * HdrHistograms of about 270 KB), and jcstress builds a fresh {@code @State} for every sample,
 * millions per run. So every state hangs off one static {@link #KERNEL}, built once per JVM:
 * <ul>
 *   <li>{@link ReleaseAcquire} cannot reset one shared {@code pnt_seq} per sample: jcstress runs
 *       each actor over a whole array of states, so actor 1 may be on state {@code i} while actor 2
 *       is on state {@code j}. Each state therefore builds its own {@code Rq.ScxRq} (7 ns: the
 *       object and its empty local DSQ) on {@code KERNEL}'s CPU 0. It is the real class with its
 *       real VarHandles and accessors; its back-pointer to the shared {@code Rq} is never followed
 *       by the code under test.
 *   <li>{@link KickWait} needs the real {@code rq.scx} and {@code ExecCtx} that
 *       {@link ExtKick#pollKickWait} reads, so it shares them. That is sound because jcstress runs a
 *       termination test one sample at a time (start the actor, signal, join), so no two samples
 *       overlap; each new state takes its snapshot of the current {@code pnt_seq}, as
 *       {@code kick_one_cpu()} does.
 * </ul>
 *
 * <h2>Observed</h2>
 * JDK 17.0.15 (Debian), 2-core AMD EPYC KVM guest (x86-64), jcstress 0.16, 2026-11-25, with other
 * builds sharing the machine (load average 7 to 12, hence the modest sample counts).
 * CI's quick mode ({@code -m quick -sc false}, what {@code run-jcstress.sh} runs; 19 s for both):
 * <pre>
 *   KickWait        RESULT  SAMPLES     FREQ      EXPECT  DESCRIPTION
 *                    STALE        0    0.00%   Forbidden  waiter never saw the bump: it would spin forever
 *               TERMINATED    1,472  100.00%  Acceptable  waiter saw the pick's pnt_seq bump and returned
 *
 *   ReleaseAcquire  RESULT    SAMPLES     FREQ      EXPECT  DESCRIPTION
 *                     0, 0  2,768,345   43.75%  Acceptable  kicker read both before the CPU wrote: it keeps ...
 *                     0, 1     15,522    0.25%  Acceptable  kicker read pnt_seq before the pick, the field ...
 *                     1, 0          0    0.00%   Forbidden  saw the new pnt_seq, missed the write before the pick
 *                     1, 1  3,543,628   56.00%  Acceptable  kicker read both after the pick: the handshake ...
 * </pre>
 * Default mode (1 normal + 5 stress forks, split compilation, 5 x 1 s iterations; 2 min 51 s):
 * <pre>
 *   KickWait        RESULT  SAMPLES     FREQ      EXPECT  DESCRIPTION
 *                    STALE        0    0.00%   Forbidden  waiter never saw the bump: it would spin forever
 *               TERMINATED   24,243  100.00%  Acceptable  waiter saw the pick's pnt_seq bump and returned
 *
 *   ReleaseAcquire  RESULT     SAMPLES     FREQ      EXPECT  DESCRIPTION
 *                     0, 0  16,862,615   40.86%  Acceptable  kicker read both before the CPU wrote: it keeps ...
 *                     0, 1     124,116    0.30%  Acceptable  kicker read pnt_seq before the pick, the field ...
 *                     1, 0           0    0.00%   Forbidden  saw the new pnt_seq, missed the write before the pick
 *                     1, 1  24,284,907   58.84%  Acceptable  kicker read both after the pick: the handshake ...
 * </pre>
 * An earlier default-mode run on a quieter machine: ReleaseAcquire 729,778,518 samples
 * (58.58% / 0.21% / 0 / 41.20%), KickWait 23,552 TERMINATED, 0 STALE.
 *
 * <p>Teeth: {@code BrokenPntSeqStress} (test tree, never in CI) runs these scenarios with one
 * access weakened and pastes what this machine catches: a plain {@code pnt_seq} load and a plain
 * spin loop are caught; a plain or opaque store, and opaque on both sides, are not (x86 is TSO).
 */
public final class PntSeqStress {
    private PntSeqStress() {
    }

    /** The kernel every state hangs off (see the class comment). CPU 0 is the target, CPU 1 kicks. */
    static final Kernel KERNEL = new Kernel(2, new Clock.Manual());

    /**
     * Message passing through {@code pnt_seq}: the target CPU makes the last plain write
     * {@code balance_scx()} makes before a pick ({@code rq->scx.releaseWindows++}, closing a
     * release window), then bumps {@code pnt_seq} exactly as {@code scx_next_task_picked()} does.
     * The kicker reads {@code pnt_seq} with acquire, then the plain field.
     * Result: {@code r1} = pnt_seq seen, {@code r2} = releaseWindows seen.
     */
    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "kicker read both before the CPU wrote: it keeps waiting")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "kicker read pnt_seq before the pick, the field after the write")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "kicker read both after the pick: the handshake worked")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "saw the new pnt_seq, missed the write before the pick")
    @Outcome(expect = FORBIDDEN, desc = "a value no interleaving produces")
    @State
    public static class ReleaseAcquire {
        final Rq.ScxRq sx = new Rq.ScxRq(KERNEL.rq(0));

        /** The target CPU, under its rq lock in the kernel (only it writes these fields). */
        @Actor
        public void cpu() {
            // ext.c: balance_scx(), end of a release window
            sx.releaseWindows++;
            // ext.c: scx_next_task_picked(); pairs with getPntSeqAcquire() in kicker()
            sx.soPntSeq(sx.lpPntSeq() + 1);
        }

        /** The kicking CPU's SCX_KICK_WAIT poll, then a read of what the target published. */
        @Actor
        public void kicker(JJ_Result r) {
            r.r1 = sx.getPntSeqAcquire();
            r.r2 = sx.releaseWindows();
        }
    }

    /**
     * The {@code SCX_KICK_WAIT} handshake: CPU 1 has kicked CPU 0 with {@code SCX_KICK_WAIT} and
     * spins in {@link ExtKick#pollKickWait} (the real loop of {@code kick_cpus_irq_workfn()}); the
     * signal is CPU 0's next pick. The waiter must return.
     */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "waiter saw the pick's pnt_seq bump and returned")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "waiter never saw the bump: it would spin forever")
    @Outcome(expect = FORBIDDEN, desc = "the waiter failed")
    @State
    public static class KickWait {
        final Rq target = KERNEL.rq(0);
        final ExecCtx kicker = KERNEL.rq(1).ctx;

        /** ext.c: kick_one_cpu() with SCX_KICK_WAIT: snapshot pnt_seq under the target's rq lock. */
        public KickWait() {
            target.lock.lock();
            try {
                kicker.pseqs[target.cpu] = target.scx.lpPntSeq();
                ExecCtx.setBit(kicker.cpusToWait, target.cpu);
                kicker.waitPending = true;
            } finally {
                target.lock.unlock();
            }
        }

        /** ext.c: kick_cpus_irq_workfn(), the SCX_KICK_WAIT spin, as Kernel.flushIrqWork() runs it. */
        @Actor
        public void waiter() {
            while (!KERNEL.ext.kick.pollKickWait(kicker)) {
                Thread.onSpinWait();
            }
        }

        /** The target's next pick, under its rq lock. */
        @Signal
        public void pick() {
            target.lock.lock();
            try {
                // ext.c: scx_next_task_picked(); pairs with the acquire in pollKickWait()
                target.scx.soPntSeq(target.scx.lpPntSeq() + 1);
            } finally {
                target.lock.unlock();
            }
        }
    }
}
