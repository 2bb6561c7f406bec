// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * Deliberately broken variants of {@link PntSeqStress}: the teeth of that suite. Each scenario is
 * {@link PntSeqStress}'s with one access of the {@code pnt_seq} protocol weakened, on the same
 * real {@code rq->scx.pnt_seq} field (reached through a private VarHandle, so the emulator keeps
 * no broken accessor). The outcome tables are the same, so a FORBIDDEN count here is the suite
 * catching the bug.
 *
 * <p>These live in the test tree on purpose: the jcstress annotation processor lists them in
 * {@code stress/target/test-classes/META-INF/TestList}, never in {@code jcstress.jar}'s, so CI
 * ({@code run-jcstress.sh}) never runs them. Surefire ignores them (no {@code *Test} name). Run them
 * by hand, with {@code test-classes} first on the class path so its TestList wins:
 * <pre>
 *   mvn -B -ntp -o package -DskipTests -pl stress -am
 *   cd stress/target &amp;&amp; java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
 *       -cp test-classes:jcstress.jar org.openjdk.jcstress.Main \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t BrokenPntSeqStress
 * </pre>
 *
 * <h2>What x86 can and cannot show</h2>
 * x86-64 is TSO: the hardware never reorders two stores or two loads, so a weakened release or
 * acquire is caught here only when the JIT itself reorders, merges or hoists the access.
 * <ul>
 *   <li>Caught: {@link PlainLoad} and {@link PlainBoth} (C2 is free to schedule the two plain
 *       loads in either order, and does), and {@link PlainLoadWait} (C2 hoists the plain load out
 *       of the empty loop, and the waiter spins forever: STALE).
 *   <li>Not caught: {@link PlainStore}. C2 may reorder two plain stores but did not here, and
 *       the hardware keeps them in order; 0 of 56 million samples.
 *   <li>Cannot be caught on x86: {@link Opaque} ({@code WRITE_ONCE()} / {@code READ_ONCE()}).
 *       Opaque forbids compiler reordering of the access, TSO does the rest, so on x86 it is
 *       indistinguishable from release/acquire. Only a weakly ordered machine (AArch64, POWER)
 *       shows "1, 0" for it, as the jcstress samples record for {@code BasicJMM_06_Causality}.
 * </ul>
 * So a green {@link PntSeqStress} on x86 proves the acquire side and the JIT's respect of the
 * release; it does not prove the hardware half of the release. Run the suite on AArch64 for that.
 *
 * <h2>Observed</h2>
 * JDK 17.0.15 (Debian), 2-core AMD EPYC KVM guest (x86-64), jcstress 0.16 default mode (1 normal
 * + 5 stress forks, split compilation, 5 x 1 s; 10.5 min for the five, on a loaded machine):
 * <pre>
 *   PlainStore     [OK]  0, 0  25,421,800 | 0, 1  235,337 | 1, 0      0 | 1, 1  30,605,861
 *   PlainLoad  [FAILED]  0, 0  27,146,711 | 0, 1  111,137 | 1, 0  3,293 | 1, 1  27,138,177
 *   PlainBoth  [FAILED]  0, 0  28,026,347 | 0, 1  136,109 | 1, 0  2,142 | 1, 1  40,007,520
 *   Opaque         [OK]  0, 0  38,713,030 | 0, 1  205,532 | 1, 0      0 | 1, 1  46,958,516
 *   PlainLoadWait  [FAILED]  TERMINATED 15,962 | STALE 2 (jcstress stops a fork at its first STALE,
 *                        so 2 of 6 forks hung; "Have stale threads, forcing VM to exit")
 * </pre>
 * "1, 0" appeared for PlainLoad in 6 of its 18 configurations and for PlainBoth in 6 of 18, always
 * with the kicker compiled by C2, also with the CPU side interpreted: it is C2 scheduling the
 * kicker's two loads, not a store reordering.
 *
 * <p>CI's quick mode is enough to see them: {@code -m quick -sc false -t BrokenPntSeqStress.PlainLoad}
 * (the regex also matches PlainLoadWait; 40 s) failed both, PlainLoad with 12,045 "1, 0" samples.
 */
public final class BrokenPntSeqStress {
    private BrokenPntSeqStress() {
    }

    /**
     * A plain {@code pnt_seq} store instead of {@code smp_store_release()}: the write before the
     * pick may become visible after the new sequence.
     */
    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "kicker read both before the CPU wrote: it keeps waiting")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "kicker read pnt_seq before the pick, the field after the write")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "kicker read both after the pick: the handshake worked")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "saw the new pnt_seq, missed the write before the pick")
    @Outcome(expect = FORBIDDEN, desc = "a value no interleaving produces")
    @State
    public static class PlainStore {
        final Rq.ScxRq sx = new Rq.ScxRq(PntSeqStress.KERNEL.rq(0));

        @Actor
        public void cpu() {
            sx.releaseWindows++;
            PNT_SEQ.set(sx, (long) PNT_SEQ.get(sx) + 1); // BROKEN: plain, not release
        }

        @Actor
        public void kicker(JJ_Result r) {
            r.r1 = sx.getPntSeqAcquire();
            r.r2 = sx.releaseWindows();
        }
    }

    /** A plain {@code pnt_seq} load instead of {@code smp_load_acquire()}. */
    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "kicker read both before the CPU wrote: it keeps waiting")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "kicker read pnt_seq before the pick, the field after the write")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "kicker read both after the pick: the handshake worked")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "saw the new pnt_seq, missed the write before the pick")
    @Outcome(expect = FORBIDDEN, desc = "a value no interleaving produces")
    @State
    public static class PlainLoad {
        final Rq.ScxRq sx = new Rq.ScxRq(PntSeqStress.KERNEL.rq(0));

        @Actor
        public void cpu() {
            sx.releaseWindows++;
            sx.soPntSeq(sx.lpPntSeq() + 1);
        }

        @Actor
        public void kicker(JJ_Result r) {
            r.r1 = (long) PNT_SEQ.get(sx); // BROKEN: plain, not acquire
            r.r2 = sx.releaseWindows();
        }
    }

    /** Both sides plain: no ordering at all (the JMM's plain message-passing case). */
    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "kicker read both before the CPU wrote: it keeps waiting")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "kicker read pnt_seq before the pick, the field after the write")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "kicker read both after the pick: the handshake worked")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "saw the new pnt_seq, missed the write before the pick")
    @Outcome(expect = FORBIDDEN, desc = "a value no interleaving produces")
    @State
    public static class PlainBoth {
        final Rq.ScxRq sx = new Rq.ScxRq(PntSeqStress.KERNEL.rq(0));

        @Actor
        public void cpu() {
            sx.releaseWindows++;
            PNT_SEQ.set(sx, (long) PNT_SEQ.get(sx) + 1); // BROKEN: plain, not release
        }

        @Actor
        public void kicker(JJ_Result r) {
            r.r1 = (long) PNT_SEQ.get(sx); // BROKEN: plain, not acquire
            r.r2 = sx.releaseWindows();
        }
    }

    /**
     * {@code WRITE_ONCE()} / {@code READ_ONCE()} (opaque) instead of release / acquire: atomic and
     * never reordered by the compiler, but with no ordering against the plain field.
     */
    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "kicker read both before the CPU wrote: it keeps waiting")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "kicker read pnt_seq before the pick, the field after the write")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "kicker read both after the pick: the handshake worked")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "saw the new pnt_seq, missed the write before the pick")
    @Outcome(expect = FORBIDDEN, desc = "a value no interleaving produces")
    @State
    public static class Opaque {
        final Rq.ScxRq sx = new Rq.ScxRq(PntSeqStress.KERNEL.rq(0));

        @Actor
        public void cpu() {
            sx.releaseWindows++;
            PNT_SEQ.setOpaque(sx, sx.lpPntSeq() + 1); // BROKEN: WRITE_ONCE, not release
        }

        @Actor
        public void kicker(JJ_Result r) {
            r.r1 = (long) PNT_SEQ.getOpaque(sx); // BROKEN: READ_ONCE, not acquire
            r.r2 = sx.releaseWindows();
        }
    }

    /**
     * The {@code SCX_KICK_WAIT} spin written with a plain load and an empty body: C2 may hoist the
     * load out of the loop, and the waiter never sees the pick.
     */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "waiter saw the pick's pnt_seq bump and returned")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "waiter never saw the bump: it would spin forever")
    @Outcome(expect = FORBIDDEN, desc = "the waiter failed")
    @State
    public static class PlainLoadWait {
        final Rq target = PntSeqStress.KERNEL.rq(0);
        final long snapshot;

        public PlainLoadWait() {
            target.lock.lock();
            try {
                snapshot = target.scx.lpPntSeq();
            } finally {
                target.lock.unlock();
            }
        }

        @Actor
        public void waiter() {
            Rq.ScxRq sx = target.scx;
            while ((long) PNT_SEQ.get(sx) == snapshot) { // BROKEN: plain, not acquire
                // cpu_relax() forgotten too: Thread.onSpinWait() is a compiler barrier in C2
            }
        }

        @Signal
        public void pick() {
            target.lock.lock();
            try {
                target.scx.soPntSeq(target.scx.lpPntSeq() + 1);
            } finally {
                target.lock.unlock();
            }
        }
    }

    // VarHandle mechanics: a second handle on the real rq->scx.pnt_seq, for the broken accesses
    private static final VarHandle PNT_SEQ;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.privateLookupIn(Rq.ScxRq.class, MethodHandles.lookup());
            PNT_SEQ = l.findVarHandle(Rq.ScxRq.class, "pntSeq", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
