// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jetbrains.kotlinx.lincheck.LinChecker;
import org.jetbrains.kotlinx.lincheck.LincheckAssertionError;
import org.jetbrains.kotlinx.lincheck.annotations.Operation;
import org.jetbrains.kotlinx.lincheck.annotations.Param;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.kotlinx.lincheck.strategy.managed.modelchecking.ModelCheckingOptions;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/**
 * Lincheck model checking of the {@code cpu_released} machine (drawn in {@link Rq.ScxRq}) on the
 * emulator's own {@link Ext#scxNextTaskPicked} (the release: a class above ext won the pick) and
 * {@link Ext#balanceScx} (the acquire, at its top), with a scheduler that implements
 * {@code cpu_release} and {@code cpu_acquire} loaded, so the seed's static key and both
 * {@code SCX_HAS_OP} keys are on and the real callbacks run.
 *
 * <p>Operations on CPU 0 (a fresh {@code Rq} per instance; its {@code ExecCtx} counts the op calls):
 * <ul>
 *   <li>{@code pick(c)}: {@code pick_next_task()}'s {@code scx_next_task_picked(rq, p, class c)}
 *       under the rq lock, {@code c} one of stop, dl, rt, fair, ext, idle. Returns the
 *       {@code cpu_release} calls it made (0 or 1), or -1 if afterwards the flag and the
 *       callbacks disagree.
 *   <li>{@code balance()}: {@code balance_scx(rq, prev = idle)} under the rq lock. Returns the
 *       {@code cpu_acquire} calls it made, or -1 on disagreement.
 *   <li>{@code released()}: {@code READ_ONCE(rq->scx.cpu_released)}, no lock (dumps, checks).
 * </ul>
 * Property: linearizability against {@link Spec}, the two-state machine: a pick by a class above
 * ext (stop, dl, rt, and fair too: {@code SCX_CPU_PREEMPT_UNKNOWN}) releases once per window
 * (exactly one {@code cpu_release}, the flag set); ext and idle never release (going idle is not
 * a release); {@code cpu_acquire} only after a release, and it closes the window; the flag always
 * equals "releases - acquires == 1" (the flag and the callbacks never disagree). Both transitions
 * run under the rq lock, so what the checker explores is the order of the locked sections against
 * each other and against the lock-free reader.
 *
 * <p>Teeth, both rejected in the build (each test asserts a {@code LincheckAssertionError} with
 * "Invalid execution results" and prints Lincheck's report):
 * <ul>
 *   <li>{@link BrokenCpuReleasedUnlocked}: the pick runs the real {@code scx_next_task_picked()}
 *       without the rq lock (a pick path that is not serialised with another pick or with
 *       {@code balance_scx()}). Only an interleaving shows it: two picks both find the window
 *       closed and both release. ({@link #brokenUnlockedIsRejected})
 *   <li>{@link BrokenCpuReleasedNoCheck}: the release step without {@code if (!cpu_released)}, as
 *       {@code BrokenCpuReleasedStress}: a second higher-class pick releases again (a logic
 *       error: the minimized failing scenario needs no interleaving). ({@link #brokenNoCheckIsRejected})
 * </ul>
 *
 * <p>How to run: {@code mvn -B -ntp -o test -pl stress -Dtest=CpuReleasedLincheckTest} (about 30 s on
 * an idle machine, 90 s loaded).
 *
 * <p>What Lincheck 2.39 printed (JDK 17.0.15, 2026-11-26, both with the failing scenario minimized;
 * trace lines shortened, "..." for omitted lines). {@code BrokenCpuReleasedUnlocked}: thread 2's rt
 * pick is switched out inside {@code callCpuRelease()}, before it sets the flag; thread 1's fair
 * pick finds the window closed and releases too:
 * <pre>
 * = Invalid execution results =
 * |  Thread 1   |  Thread 2   |
 * | pick(3): -1 | pick(2): -1 |
 *
 * The following interleaving leads to the error:
 * |  Thread 1   |  Thread 2                                                      |
 * |             | pick(2): -1                                                    |
 * |             |   picked(RT): -1                                               |
 * |             |     releases(): 0                                              |
 * |             |     Kernel#1.ext.scxNextTaskPicked(Rq#1, Task#1, RT)           |
 * |             |       sx.bumpPntSeq() at Ext.scxNextTaskPicked                 |
 * |             |       strandLocalDsq(Rq#1) at Ext.scxNextTaskPicked            |
 * |             |       sx.lpCpuReleased(): false at Ext.scxNextTaskPicked       |
 * |             |       callCpuRelease(ExecCtx#1, 0, CpuReleaseArgs#1)           |
 * |             |       switch                                                   |
 * | pick(3): -1 |                                                                |
 * |             |       sx.writeOnceCpuReleased(true) at Ext.scxNextTaskPicked   |
 * |             |       Kernel#1.now(): 0 at Ext.scxNextTaskPicked               |
 * |             |     agree(): false                                             |
 * |             |   result: -1                                                   |
 * </pre>
 * {@code BrokenCpuReleasedNoCheck} (the build runs it without minimization, to save time, and
 * prints the first failing scenario, a longer one):
 * <pre>
 * = Invalid execution results =
 * |  Thread 1   |
 * | pick(3): 1  |
 * | pick(2): -1 |
 * ...
 * | pick(2): -1                                                      |
 * |   picked(RT): -1                                                 |
 * |     LongArray#1[15] = 2 at BrokenCpuReleasedNoCheck.picked(...)  |   (a second cpu_release)
 * |     Rq#1.scx.writeOnceCpuReleased(true)                          |
 * |     agree(): false                                               |
 * </pre>
 */
public class CpuReleasedLincheckTest {
    /** One kernel and one loaded scheduler per JVM (surefire forks one JVM per test class). */
    static final Kernel KERNEL = new Kernel(2, new Clock.Manual());
    static final Task RT = new Task(90, "rt", Task.SCHED_FIFO, 0, false, CpuMask.of(0), null, 0);
    static final SchedClass[] CLASSES = {
        SchedClass.STOP, SchedClass.DL, SchedClass.RT, SchedClass.FAIR, SchedClass.EXT, SchedClass.IDLE,
    };

    static {
        int ret = KERNEL.ext.enable(new Rel());
        if (ret != 0 || !KERNEL.ext.cpuPreemptEnabled()) {
            throw new ExceptionInInitializerError("could not load the cpu_release scheduler: " + ret);
        }
    }

    /** The minimal scheduler with both of the seed's ops (no-ops: the core's counters record them). */
    static final class Rel implements SchedExtOps {
        @Override
        public String name() {
            return "lincheck_rel";
        }

        @Override
        public void cpuRelease(int cpu, CpuReleaseArgs a) {
        }

        @Override
        public void cpuAcquire(int cpu, CpuAcquireArgs a) {
        }
    }

    /**
     * Model checking, 2 threads x 2 operations plus 1 before and 1 after. The real object is
     * checked on 6 x 150 interleavings; a broken one stops at its first failure, so it gets more
     * room to find it (10 x 200).
     */
    static ModelCheckingOptions options(int iterations, int invocations) {
        return LincheckOptions.of(Spec.class, iterations, invocations);
    }

    @Test
    public void cpuReleasedIsLinearizable() {
        LinChecker.check(RealCpuReleased.class, options(6, 150));
    }

    /** Minimized (a few seconds more): the two-pick interleaving of the header. */
    @Test
    public void brokenUnlockedIsRejected() {
        assertRejected(BrokenCpuReleasedUnlocked.class, true);
    }

    /** Not minimized, for CI's time: the scenario printed is the first failing one, longer. */
    @Test
    public void brokenNoCheckIsRejected() {
        assertRejected(BrokenCpuReleasedNoCheck.class, false);
    }

    /**
     * The checker must reject {@code broken} with a result no sequential order explains (not with
     * a crash of the test itself); the interleaving it prints goes to the build's output.
     */
    static void assertRejected(Class<?> broken, boolean minimize) {
        LincheckAssertionError e = assertThrows(LincheckAssertionError.class,
                () -> LinChecker.check(broken, options(10, 200).minimizeFailedScenario(minimize)));
        String report = e.getMessage();
        assertTrue(report.contains("Invalid execution results"), report);
        System.out.println(broken.getSimpleName() + " rejected, as it must be:\n" + report);
    }

    /** The real machine: CPU 0's {@code rq->scx.cpu_released} of a fresh rq, with its lock. */
    public static class RealCpuReleased {
        /**
         * Fresh per instance, for its lock and its op counters: Lincheck abandons hung or failed
         * invocations mid-operation, so a lock shared between instances could be left held.
         */
        final Rq rq = new Rq(KERNEL, 0);

        long releases() {
            return rq.ctx.opCalls[ScxOp.CPU_RELEASE.ordinal()];
        }

        long acquires() {
            return rq.ctx.opCalls[ScxOp.CPU_ACQUIRE.ordinal()];
        }

        /** The flag and the callbacks agree: set iff one release is not yet acquired (rq lock). */
        boolean agree() {
            long open = releases() - acquires();
            return (open == 0 || open == 1) && rq.scx.lpCpuReleased() == (open == 1);
        }

        /** pick_next_task() picked a task of class {@code c}: scx_next_task_picked(), rq lock held. */
        @Operation
        public int pick(@Param(gen = IntGen.class, conf = "0:5") int c) {
            rq.lock.lock();
            try {
                return picked(CLASSES[c]);
            } finally {
                rq.lock.unlock();
            }
        }

        int picked(SchedClass c) {
            long before = releases();
            KERNEL.ext.scxNextTaskPicked(rq, RT, c);
            return agree() ? (int) (releases() - before) : -1;
        }

        /** balance_scx() with prev = idle (ext regains the CPU), rq lock held. */
        @Operation
        public int balance() {
            rq.lock.lock();
            try {
                long before = acquires();
                KERNEL.ext.balanceScx(rq, rq.idle);
                return agree() ? (int) (acquires() - before) : -1;
            } finally {
                rq.lock.unlock();
            }
        }

        /** READ_ONCE(rq->scx.cpu_released): a lock-free reader. */
        @Operation
        public boolean released() {
            return rq.scx.getCpuReleasedOpaque();
        }
    }

    /** BROKEN on purpose: the pick path runs scx_next_task_picked() without the rq lock. */
    public static class BrokenCpuReleasedUnlocked extends RealCpuReleased {
        @Override
        @Operation
        public int pick(@Param(gen = IntGen.class, conf = "0:5") int c) {
            return picked(CLASSES[c]);
        }
    }

    /**
     * BROKEN on purpose: scx_next_task_picked()'s release step without the
     * {@code if (!rq->scx.cpu_released)} test (under the rq lock, with the real op call counting).
     */
    public static class BrokenCpuReleasedNoCheck extends RealCpuReleased {
        @Override
        int picked(SchedClass c) {
            long before = releases();
            if (c.above(SchedClass.EXT)) {
                // missing: if (!rq->scx.cpu_released)
                rq.ctx.opCalls[ScxOp.CPU_RELEASE.ordinal()]++; // what callCpuRelease()'s enterOp() does
                rq.scx.writeOnceCpuReleased(true);
            }
            return agree() ? (int) (releases() - before) : -1;
        }
    }

    /** The sequential specification: the two-state machine. */
    public static class Spec {
        boolean released;

        public int pick(int c) {
            if (CLASSES[c].above(SchedClass.EXT) && !released) {
                released = true;
                return 1;
            }
            return 0;
        }

        public int balance() {
            if (released) {
                released = false;
                return 1;
            }
            return 0;
        }

        public boolean released() {
            return released;
        }
    }
}
