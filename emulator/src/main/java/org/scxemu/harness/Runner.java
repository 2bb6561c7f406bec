// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import org.scxemu.harness.controlled.ControlledSpec;
import org.scxemu.harness.controlled.Controller;
import org.scxemu.harness.workload.Workload;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Kfunc;
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
        try (Machine m = Machine.threaded(spec.cpus(), spec.tickNs(), tracer, spec.kernelProfile().core)) {
            Kernel k = m.kernel();
            int ret = m.load(ops);
            if (ret < 0) {
                return RunResult.loadFailed(spec, ret, m.ext().dmesg());
            }
            long startNs = k.now();
            // fork the workload before the CPU threads start: forking while hundreds of CPU threads
            // run starved the forking thread on a small host; the tasks wait on their runqueues
            workload.start(k, spec.cpus(), spec.seed());
            m.start();
            // the duration counts from when every task has been forked and every CPU started
            long t0 = System.nanoTime();
            CoreLine core = new CoreLine(k, 0);
            long end = t0 + spec.durationNs();
            long nextSecond = t0 + SECOND_NS;
            int second = 0;
            for (;;) {
                long now = System.nanoTime();
                if (m.ext().exitKind() != 0 || k.bug() != null || now - end >= 0) {
                    break;
                }
                if (now - nextSecond >= 0) {
                    listener.second(++second, now - t0, k, ops, core.line(now - t0));
                    nextSecond += SECOND_NS;
                    continue;
                }
                LockSupport.parkNanos(Math.min(POLL_NS, Math.min(end, nextSecond) - now));
            }
            long elapsed = System.nanoTime() - t0;
            long endNs = k.now();
            boolean ejected = m.ext().exitKind() != 0;
            if (ejected) {
                // the kernel's error irq work is dumping and disabling: wait for it to finish
                m.ext().awaitDisabled();
            }
            m.stop();
            if (!ejected) {
                m.unload();
            }
            return RunResult.collect(spec, m, ops, workload, elapsed, startNs, endNs);
        }
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
     * result, number for number.
     */
    public static ControlledRun runControlled(RunSpec spec, ControlledSpec cs, SchedExtOps ops, Workload workload,
            Listener listener, Tracer tracer) {
        try (Machine m = Machine.controlled(spec.cpus(), spec.tickNs(), tracer, spec.kernelProfile().core, cs)) {
            Kernel k = m.kernel();
            Controller c = m.controller();
            int ret = m.load(ops);
            if (ret < 0) {
                return new ControlledRun(RunResult.loadFailed(spec, ret, m.ext().dmesg()), c, null, 0, -1);
            }
            m.start();
            long startNs = k.now();
            Controller.Stop stop = c.runAction(() -> workload.start(k, spec.cpus(), spec.seed()));
            long t0 = k.now();
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
            long elapsed = endNs - t0;
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
            return new ControlledRun(RunResult.collect(spec, m, ops, workload, elapsed, startNs, endNs), c, stop,
                    endStep, exitStep[0]);
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

        private static long busyNs(Kernel k) {
            long busy = 0;
            for (int cpu = 0; cpu < k.nrCpus(); cpu++) {
                busy += k.rq(cpu).busyNs(); // racy but benign: a monotonic counter, for display
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
