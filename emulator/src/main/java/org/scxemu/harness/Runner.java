// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.scxemu.harness.controlled.Carriers;
import org.scxemu.harness.controlled.ControlledSpec;
import org.scxemu.harness.controlled.Controller;
import org.scxemu.harness.workload.Workload;
import org.scxemu.kernel.CpuStats;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.OpWatch;
import org.scxemu.kernel.ScxOp;
import org.scxemu.kernel.Tracer;
import org.scxemu.scx.SchedExtOps;

/**
 * Runs one scheduler on one workload on a threaded {@link Machine}, the way a user runs a
 * sched_ext scheduler: load it, start the CPUs, start the workload, report once a second, and at
 * the end unload it (SCX_EXIT_UNREG), unless the kernel ejected it first.
 *
 * <p>Threads: everything here runs on the calling (harness) thread; the machine's CPU threads run
 * the tasks. The once-a-second {@link Listener} is called on the harness thread and reads the
 * kernel's counters racily (racy but benign: they are monotonic counters read for display; the
 * final figures are read after the CPU threads are joined).
 */
public final class Runner {
    private static final long SECOND_NS = 1_000_000_000L;
    /** How often the harness thread checks for an exit while it waits. */
    private static final long POLL_NS = 10_000_000L;

    private Runner() {
    }

    /** Told about the run's progress, on the harness thread. */
    public interface Listener {
        Listener NONE = (second, elapsedNs, kernel, ops, coreLine) -> { };

        /**
         * Called after each full second of the run ({@code second} = 1, 2, ...), with the core's
         * line for that second ({@link CoreLine}).
         */
        void second(int second, long elapsedNs, Kernel kernel, SchedExtOps ops, String coreLine);
    }

    /**
     * Runs {@code ops} on {@code workload} as {@code spec} says and returns what happened. The
     * machine is always stopped and the scheduler unloaded before this returns, even if it throws.
     */
    public static RunResult run(RunSpec spec, SchedExtOps ops, Workload workload, Listener listener) {
        return run(spec, ops, workload, listener, Tracer.NONE);
    }

    /**
     * As {@link #run(RunSpec, SchedExtOps, Workload, Listener)}, with the kernel's trace points
     * going to {@code tracer} (called on the CPU threads; see {@link Tracer}).
     */
    public static RunResult run(RunSpec spec, SchedExtOps ops, Workload workload, Listener listener,
            Tracer tracer) {
        Session g = new Session(spec, ops, workload, Machine.threaded(spec.cpus(), spec.tickNs(), tracer,
                spec.kernelProfile().core));
        // The run's body runs on its own thread: a scheduler op stuck on it (a fork's enqueue, the
        // listener's statsLine(), ops.init()) must not take the caller with it.
        Bounded<RunResult> b = new Bounded<>();
        b.watch = g.watch;
        return b.run(() -> g.body(listener, b), g::abandon);
    }

    /**
     * A run's body on its own thread, and the caller's bounded wait for it: once the run's
     * {@link OpWatch} reports a stuck op, the caller waits {@link #ABANDON_NS} more, then gives
     * up on the body (it may be stuck in the scheduler's code for ever) and reports the run itself
     * from what the machine holds. Whoever {@link #claim}s first reports: the body claims before it
     * collects its result, the caller before it abandons. Used by every mode (run, run
     * --controlled, stress, stress --controlled).
     *
     * <p>Threads: {@link #watch} is set by the body (or before it starts) and read by the caller
     * (volatile); {@link #run} is called on the caller's thread, which must be a platform thread
     * (a virtual one may share the stuck op's carrier).
     */
    public static final class Bounded<T> {
        /** The run's op watchdog, once started (volatile: set by the body, read by the caller). */
        public volatile OpWatch watch;
        private final AtomicBoolean finished = new AtomicBoolean();

        /** Takes the right to report the run; false when the other side already has it. */
        public boolean claim() {
            return finished.compareAndSet(false, true);
        }

        /**
         * Runs {@code body} on a daemon thread and returns what it returns, or, when an op is
         * stuck and the body does not end {@link #ABANDON_NS} later, what {@code abandon} makes of
         * the stuck op (called on this thread, after a successful {@link #claim}).
         */
        public T run(java.util.function.Supplier<T> body, java.util.function.Function<OpWatch.Stuck, T> abandon) {
            FutureTask<T> task = new FutureTask<>(body::get);
            Thread t = new Thread(task, "scx-harness");
            t.setDaemon(true);
            t.start();
            long stuckSeen = 0;
            for (;;) {
                try {
                    return task.get(POLL_NS, TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    OpWatch w = watch;
                    OpWatch.Stuck stuck = w == null ? null : w.stuck();
                    if (stuck != null) {
                        long now = System.nanoTime();
                        if (stuckSeen == 0) {
                            stuckSeen = now;
                        } else if (now - stuckSeen > ABANDON_NS && claim()) {
                            return abandon.apply(stuck);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    OpWatch w = watch;
                    if (claim()) {
                        return abandon.apply(w == null ? null : w.stuck());
                    }
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof RuntimeException) {
                        throw (RuntimeException) c;
                    }
                    if (c instanceof Error) {
                        throw (Error) c;
                    }
                    throw new IllegalStateException(c);
                }
            }
        }
    }

    /**
     * How long the caller waits for the run's body once an op is stuck: the body's own bounded
     * waits (the disable, the CPU threads' stop, the unload) fit in it, so the body returns the
     * result itself unless the stuck op is on its own thread.
     */
    private static final long ABANDON_NS = 3_000_000_000L;

    /**
     * One free-running run: the machine, its op watchdog and the run's clock readings, shared by
     * the body thread (which writes them) and the caller (which reads them only to abandon a
     * stuck body). Volatile fields: written by the body, read by the caller.
     */
    private static final class Session {
        final RunSpec spec;
        final SchedExtOps ops;
        final Workload workload;
        final Machine m;
        final OpWatch watch;
        volatile long startNs;
        volatile long t0;
        volatile long[] busy0;
        volatile long endNs;
        volatile long elapsed;

        Session(RunSpec spec, SchedExtOps ops, Workload workload, Machine m) {
            this.spec = spec;
            this.ops = ops;
            this.workload = workload;
            this.m = m;
            this.watch = OpWatch.start(m.kernel());
            m.kernel().seedPrandom(spec.seed());
        }

        RunResult body(Listener listener, Bounded<RunResult> bound) {
            boolean wedged = false;
            try {
                Kernel k = m.kernel();
                int ret = m.load(ops);
                if (ret < 0) {
                    return RunResult.loadFailed(spec, ret, m.ext().dmesg());
                }
                startNs = k.now();
                // fork the workload before the CPU threads start: forking while hundreds of CPU threads
                // run starved the forking thread on a small host; the tasks wait on their runqueues
                workload.start(k, spec.cpus(), spec.seed());
                m.start();
                // the duration counts from when every task has been forked and every CPU started
                long start = System.nanoTime();
                busy0 = CpuStats.busySnapshot(k, k.now());
                t0 = start;
                CoreLine core = new CoreLine(k, 0);
                long end = start + spec.durationNs();
                long nextSecond = start + SECOND_NS;
                int second = 0;
                for (;;) {
                    long now = System.nanoTime();
                    boolean over = m.ext().exitKind() != 0 || k.bug() != null || now - end >= 0;
                    // the last full second gets its line too (a 5 s run prints 5)
                    boolean last = now - end >= 0 && m.ext().exitKind() == 0 && k.bug() == null
                            && second < spec.durationNs() / SECOND_NS;
                    if (over && !last) {
                        break;
                    }
                    if (now - nextSecond >= 0 || last) {
                        String line = core.line(now - start);
                        try {
                            listener.second(++second, now - start, k, ops, line);
                        } catch (Throwable e) { // the scheduler's user-space half (statsLine()) failed
                            m.ext().scxOpsError("the scheduler's user space threw %s", OpWatch.describe(e));
                        }
                        nextSecond += SECOND_NS;
                        continue;
                    }
                    LockSupport.parkNanos(Math.min(POLL_NS, Math.min(end, nextSecond) - now));
                }
                watch.runEnded();
                elapsed = System.nanoTime() - start;
                endNs = k.now();
                long[] busy = busyIn(busy0, CpuStats.busySnapshot(k, endNs), elapsed);
                wedged = !awaitDisabledOrStuck(m, watch);
                m.stop();
                if (!wedged && m.ext().exitKind() == 0) {
                    wedged = !unloadOrStuck(m, watch);
                }
                wedged = wedged || !awaitDisabledOrStuck(m, watch);
                if (!bound.claim()) {
                    wedged = true;
                    return null; // the caller gave up on this body and reported the run itself
                }
                return RunResult.collect(spec, m, ops, workload, elapsed, startNs, endNs, busy, watch.stuck());
            } finally {
                watch.close();
                if (!wedged) {
                    m.close();
                }
            }
        }

        /** The body is stuck in the scheduler's code: report the run from what the machine holds now. */
        RunResult abandon(OpWatch.Stuck stuck) {
            watch.close();
            Kernel k = m.kernel();
            long now = System.nanoTime();
            long from = t0;
            long el = elapsed != 0 ? elapsed : from != 0 ? now - from : 0;
            long endAt = endNs != 0 ? endNs : k.now();
            long[] b0 = busy0;
            long[] busy = b0 == null ? new long[spec.cpus()] : busyIn(b0, CpuStats.busySnapshot(k, endAt), el);
            if (m.ext().exitKind() == 0) {
                m.ext().scxOpsError("the run could not end: a scheduler op is stuck");
            }
            return RunResult.collect(spec, m, ops, workload, el, startNs, endAt, busy, stuck);
        }
    }

    /** Each CPU's busy time between two snapshots, never more than the window's length. */
    static long[] busyIn(long[] from, long[] to, long windowNs) {
        long[] b = new long[to.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = Math.max(0, Math.min(windowNs, to[i] - from[i]));
        }
        return b;
    }

    /** How long a disable may take once an op is known to be stuck (it may hold the locks the disable needs). */
    private static final long STUCK_DISABLE_WAIT_NS = 2_000_000_000L;
    /** How long a disable may take at all (the kernel's own, with every task to switch back). */
    private static final long DISABLE_WAIT_NS = 30_000_000_000L;

    /**
     * Unloads the scheduler on a helper thread and waits for it; returns false when an op got
     * stuck in the unload (ops.exit_task(), ops.disable(), ops.exit() ...) and it did not finish.
     */
    static boolean unloadOrStuck(Machine m, OpWatch watch) {
        Thread u = new Thread(m::unload, "scx-unload");
        u.setDaemon(true);
        u.start();
        return waitOrStuck(() -> !u.isAlive(), watch);
    }

    /**
     * After an exit, waits for the disable to finish; returns false when it did not (an op is
     * stuck and holds what the disable needs: the machine is wedged and must be left as it is).
     * Returns true at once while no exit is pending.
     */
    static boolean awaitDisabledOrStuck(Machine m, OpWatch watch) {
        return waitOrStuck(() -> m.ext().exitKind() == 0 || m.ext().enableState() == Ext.SCX_OPS_DISABLED, watch);
    }

    /**
     * Polls {@code done} every millisecond; false if it is not true {@link #STUCK_DISABLE_WAIT_NS}
     * after {@code watch} found a stuck op, or {@link #DISABLE_WAIT_NS} after the start.
     */
    private static boolean waitOrStuck(BooleanSupplier done, OpWatch watch) {
        long start = System.nanoTime();
        long stuckSeen = 0;
        while (!done.getAsBoolean()) {
            long now = System.nanoTime();
            if (watch != null && watch.stuck() != null) {
                if (stuckSeen == 0) {
                    stuckSeen = now;
                } else if (now - stuckSeen > STUCK_DISABLE_WAIT_NS) {
                    return false;
                }
            }
            if (now - start > DISABLE_WAIT_NS) {
                return false;
            }
            LockSupport.parkNanos(1_000_000L);
            if (Thread.currentThread().isInterrupted()) {
                return false;
            }
        }
        return true;
    }

    /**
     * What a controlled run returns: the run's result, the controller (its step count and
     * hand-over log, readable after the run), why the run's main loop stopped (null when it ran
     * to the end of its duration, {@code CONDITION} when the scheduler exited and was disabled,
     * else the reason {@link Controller#runUntil} gave), the step at which it stopped (before the threads were drained)
     * and the first step at which the scheduler's exit was seen (-1 if it never exited before).
     */
    public record ControlledRun(RunResult result, Controller controller, Controller.Stop stoppedBy, long endStep,
            long exitStep) {
    }

    /**
     * As {@link #run(RunSpec, SchedExtOps, Workload, Listener, Tracer)}, on a controlled machine
     * ({@link Machine#controlled}): the duration and the listener's seconds are simulated time,
     * the workload's forks run under control (as the harness participant's action), and the run
     * ends early when the kernel ejects the scheduler (once its disable is done), on a kernel BUG,
     * at the step bound or when nothing can run (reported as a BUG). Same specs, same seed: same
     * result, number for number. The driver runs on a thread of its own: an op that never returns
     * holds the turn, and the caller then reports the run from the machine as it is
     * ({@link Bounded}).
     */
    public static ControlledRun runControlled(RunSpec spec, ControlledSpec cs, SchedExtOps ops, Workload workload,
            Listener listener, Tracer tracer) {
        // the driver runs on its own thread: an op that never returns holds the controller's turn,
        // and the driver would wait for it for ever
        Bounded<ControlledRun> b = new Bounded<>();
        Abandoned a = new Abandoned();
        return b.run(() -> Carriers.drive(() -> controlledBody(spec, cs, ops, workload, listener, tracer, b, a)),
                stuck -> new ControlledRun(a.collect(spec, ops, workload, stuck), a.controller,
                        Controller.Stop.CONDITION, a.controller == null ? 0 : a.controller.steps(), -1));
    }

    private static ControlledRun controlledBody(RunSpec spec, ControlledSpec cs, SchedExtOps ops, Workload workload,
            Listener listener, Tracer tracer, Bounded<ControlledRun> bound, Abandoned a) {
        try (Machine m = Machine.controlled(spec.cpus(), spec.tickNs(), tracer, spec.kernelProfile().core, cs)) {
            a.m = m;
            a.controller = m.controller();
            m.kernel().seedPrandom(spec.seed());
            Kernel k = m.kernel();
            Controller c = m.controller();
            // an op that sleeps on host time is caught here too; ops.init() at load as well
            OpWatch watch = OpWatch.start(k);
            bound.watch = watch;
            int ret = m.load(ops);
            if (ret < 0) {
                watch.close();
                return new ControlledRun(RunResult.loadFailed(spec, ret, m.ext().dmesg()), c, null, 0, -1);
            }
            m.start();
            long startNs = k.now();
            a.startNs = startNs;
            Controller.Stop stop = c.runAction(() -> workload.start(k, spec.cpus(), spec.seed()));
            long t0 = k.now();
            long[] busy0 = CpuStats.busySnapshot(k, t0);
            a.t0 = t0;
            a.busy0 = busy0;
            CoreLine core = new CoreLine(k, 0);
            long end = t0 + spec.durationNs();
            int second = 0;
            long[] exitStep = {-1};
            if (stop == Controller.Stop.CONDITION) {
                stop = null;
                for (;;) {
                    long next = Math.min(end, t0 + (second + 1) * SECOND_NS);
                    Controller.Stop s = c.runUntil(() -> {
                        if (m.ext().exitKind() == 0) {
                            return false;
                        }
                        if (exitStep[0] < 0) {
                            exitStep[0] = c.steps();
                        }
                        return m.ext().enableState() == Ext.SCX_OPS_DISABLED;
                    }, next, Long.MAX_VALUE);
                    if (s != Controller.Stop.TIME) {
                        stop = s;
                        break;
                    }
                    long now = k.now();
                    if (now - end >= 0) {
                        break;
                    }
                    listener.second(++second, now - t0, k, ops, core.line(now - t0));
                }
            }
            long endNs = k.now();
            watch.runEnded();
            a.endNs = endNs;
            long elapsed = endNs - t0;
            long[] busy = busyIn(busy0, CpuStats.busySnapshot(k, endNs), elapsed);
            long endStep = c.steps();
            if (stop == Controller.Stop.DEADLOCK) {
                k.reportBug(new IllegalStateException("controlled run: no thread can run (a lock cycle or a lost"
                        + " wakeup) at " + c.where()));
            }
            boolean ejected = m.ext().exitKind() != 0;
            m.stop();
            if (ejected) {
                m.ext().awaitDisabled();
            } else {
                m.unload();
            }
            watch.close();
            if (!bound.claim()) {
                return null; // the caller gave up on this driver and reported the run itself
            }
            return new ControlledRun(RunResult.collect(spec, m, ops, workload, elapsed, startNs, endNs, busy,
                    watch.stuck()), c, stop,
                    endStep, exitStep[0]);
        }
    }

    /**
     * What a run on simulated time has reached, for the caller to report it when its driver is
     * stuck ({@link Bounded}): each field is written once by the driver (volatile) and read by
     * the caller only after it abandoned the driver.
     */
    public static final class Abandoned {
        public volatile Machine m;
        public volatile Controller controller;
        public volatile long startNs;
        public volatile long t0;
        public volatile long[] busy0;
        public volatile long endNs;

        /** The run's result from what the machine holds now (null when the machine was never made). */
        public RunResult collect(RunSpec spec, SchedExtOps ops, Workload workload, OpWatch.Stuck stuck) {
            Machine mach = m;
            if (mach == null) {
                return null;
            }
            Kernel k = mach.kernel();
            long endAt = endNs != 0 ? endNs : k.now();
            long from = t0 != 0 ? t0 : startNs;
            long el = Math.max(0, endAt - from);
            long[] b0 = busy0;
            long[] busy = b0 == null ? null : busyIn(b0, CpuStats.busySnapshot(k, endAt), el);
            if (mach.ext().exitKind() == 0) {
                mach.ext().scxOpsError("the run could not end: a scheduler op is stuck");
            }
            return RunResult.collect(spec, mach, ops, workload, el, startNs, endAt, busy, stuck);
        }
    }

    /**
     * The core's once-a-second line, in the manner of scx_qmap's {@code stats  :} line: context
     * switches, {@code cpu_release} and {@code cpu_acquire} calls, closed release windows, tasks
     * re-enqueued, kicks (all cumulative, as qmap's are), and the machine's busy share since the
     * previous line. One instance per run, used by the harness thread only.
     */
    public static final class CoreLine {
        private final Kernel k;
        private long lastBusyNs;
        private long lastNs;

        public CoreLine(Kernel k, long startElapsedNs) {
            this.k = k;
            this.lastBusyNs = busyNs(k);
            this.lastNs = startElapsedNs;
        }

        /** Busy time so far, the running tasks' current stretches included. */
        private static long busyNs(Kernel k) {
            long busy = 0;
            for (long b : CpuStats.busySnapshot(k, k.now())) {
                busy += b;
            }
            return busy;
        }

        /** The line at {@code elapsedNs} into the run. */
        public String line(long elapsedNs) {
            long[] ops = k.opCalls();
            long[] kf = k.kfuncCalls();
            long switches = 0;
            long windows = 0;
            for (int cpu = 0; cpu < k.nrCpus(); cpu++) {
                switches += k.rq(cpu).nrSwitches();
                windows += k.rq(cpu).scx.releaseWindows();
            }
            long busy = busyNs(k);
            long span = elapsedNs - lastNs;
            double busyPct = span <= 0 ? 0 : 100.0 * (busy - lastBusyNs) / ((double) span * k.nrCpus());
            lastBusyNs = busy;
            lastNs = elapsedNs;
            return String.format(Locale.ROOT, "core   : sw=%d rel=%d acq=%d windows=%d reenq=%d kick=%d busy=%.1f%%",
                    switches, ops[ScxOp.CPU_RELEASE.ordinal()], ops[ScxOp.CPU_ACQUIRE.ordinal()], windows,
                    k.reenqueuedTasks(), kf[Kfunc.KICK_CPU.ordinal()], Math.max(0.0, Math.min(100.0, busyPct)));
        }
    }
}
