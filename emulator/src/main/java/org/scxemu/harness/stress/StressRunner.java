// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.stress;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.scxemu.harness.Machine;
import org.scxemu.harness.RunResult;
import org.scxemu.harness.RunSpec;
import org.scxemu.harness.Runner;
import org.scxemu.harness.controlled.Carriers;
import org.scxemu.harness.controlled.ControlledSpec;
import org.scxemu.harness.controlled.Controller;
import org.scxemu.harness.workload.Workload;
import org.scxemu.kernel.Clock;
import org.scxemu.kernel.InvariantChecker;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.OpWatch;
import org.scxemu.kernel.Tracer;
import org.scxemu.scx.SchedExtOps;

/**
 * {@code ./scx-emu stress}: runs a scheduler on a workload on a threaded machine, as
 * {@link Runner} does, while {@link Chaos} injects trouble and an {@link InvariantChecker}
 * checks every event and, every {@link #CHECK_INTERVAL_NS}, the whole machine. The first
 * violation stops the run; the result carries the {@code invariants} and {@code chaos} JSON
 * sections and, on a violation, the report (the invariant, the task and CPUs, the CPUs' recent
 * events, the kernel-format dump).
 *
 * <p>Threads: a run's body runs on a harness thread of its own ({@link Runner.Bounded}), which
 * also makes the whole-machine checks; the calling thread waits for it and reports the run itself
 * when an op never returns (3 s after the op watchdog named it); chaos runs on its own thread
 * and reloads the scheduler through {@link #reload}, which is serialised with the end of the run
 * by {@code lifecycle}.
 */
public final class StressRunner {
    /** How often the whole machine is checked. */
    public static final long CHECK_INTERVAL_NS = 20_000_000L;
    /** How long the end of a run (chaos stop, final check, CPU stop, unload) may take. */
    public static final long END_GRACE_NS = 10_000_000_000L;
    private static final long SECOND_NS = 1_000_000_000L;

    private StressRunner() {
    }

    /** What a stress run found, beside the usual {@link RunResult}. */
    public static final class Outcome {
        public final RunResult result;
        /** The first violation, or null. */
        public final InvariantChecker.Violation violation;
        /** The CPUs' recent events when the run stopped (set on a violation). */
        public final String history;
        /** The kernel-format dump taken after the CPUs stopped (set on a violation). */
        public final String dump;
        public final long checked;
        public final long violations;

        /** The controller of a controlled run (its hand-over log, readable after the run), else null. */
        public final Controller controller;
        /** A controlled run: the step during which the first violation happened, else -1. */
        public final long violationStep;
        /** A controlled run: the {@code stopped_by} of its {@code controlled} JSON section, else null. */
        public final String stoppedBy;

        /** The host time the run took from the workload's start to the end of its main loop (0 if it never ran). */
        public final long wallNs;
        /** The CPU time the whole process used meanwhile (every thread), or -1 if the JVM cannot say. */
        public final long cpuNs;

        Outcome(RunResult result, InvariantChecker.Violation violation, String history, String dump, long checked,
                long violations) {
            this(result, violation, history, dump, checked, violations, null, -1, null, 0, -1);
        }

        Outcome(RunResult result, InvariantChecker.Violation violation, String history, String dump, long checked,
                long violations, Controller controller, long violationStep, String stoppedBy, long wallNs,
                long cpuNs) {
            this.result = result;
            this.violation = violation;
            this.history = history;
            this.dump = dump;
            this.checked = checked;
            this.violations = violations;
            this.controller = controller;
            this.violationStep = violationStep;
            this.stoppedBy = stoppedBy;
            this.wallNs = wallNs;
            this.cpuNs = cpuNs;
        }
    }

    /** An exit that is not a reload's own unload (a reload holds {@code lifecycle} throughout). */
    private static boolean ejectedNotReloading(Machine m, ReentrantLock lifecycle) {
        if (!lifecycle.tryLock()) {
            return false;
        }
        try {
            return m.ext().exitKind() != 0;
        } finally {
            lifecycle.unlock();
        }
    }

    /**
     * Runs the stress test. {@code opsFactory} makes a fresh scheduler instance for the first load
     * and for every reload.
     */
    public static Outcome run(RunSpec spec, Supplier<SchedExtOps> opsFactory, Workload workload, ChaosConfig chaosCfg,
            long stallLimitNs, Runner.Listener listener, Tracer extra) {
        return run(spec, opsFactory, workload, chaosCfg, stallLimitNs, 1, listener, extra);
    }

    /**
     * As {@link #run(RunSpec, Supplier, Workload, ChaosConfig, long, Runner.Listener, Tracer)}, with
     * time compressed {@code speed} times ({@link org.scxemu.kernel.Clock.Scaled}): the run still
     * lasts {@code spec.durationNs()} on the host (the search budget), and the machine lives
     * {@code speed} times as much emulated time, which is what the JSON's {@code duration_ns}, the
     * latencies and the listener's elapsed time are in. The listener is still called once per host
     * second. Speed 1 is exactly the uncompressed run.
     */
    public static Outcome run(RunSpec spec, Supplier<SchedExtOps> opsFactory, Workload workload, ChaosConfig chaosCfg,
            long stallLimitNs, long speed, Runner.Listener listener, Tracer extra) {
        processCpuNs(); // loads the management classes now, not inside the measured run
        InvariantChecker checker = new InvariantChecker(spec.cpus(), stallLimitNs);
        Tracer tracer = Tracer.tee(checker, extra);
        AtomicReference<SchedExtOps> current = new AtomicReference<>(opsFactory.get());
        ReentrantLock lifecycle = new ReentrantLock();
        long[] reloads = new long[1];
        // the run's body on its own thread: an op that never returns may hold what its end needs
        Runner.Bounded<Outcome> bound = new Runner.Bounded<>();
        Runner.Abandoned a = new Runner.Abandoned();
        AtomicReference<Chaos> chaosRef = new AtomicReference<>();
        long wall0 = System.nanoTime();
        return bound.run(() -> runBody(spec, current, opsFactory, workload, chaosCfg, stallLimitNs, speed, listener,
                checker, tracer, lifecycle, reloads, bound, a, chaosRef),
                stuck -> abandoned(spec, a, current.get(), workload, stuck, checker, chaosRef.get(), chaosCfg,
                        stallLimitNs, speed, null, System.nanoTime() - wall0));
    }

    private static Outcome runBody(RunSpec spec, AtomicReference<SchedExtOps> current,
            Supplier<SchedExtOps> opsFactory, Workload workload, ChaosConfig chaosCfg, long stallLimitNs, long speed,
            Runner.Listener listener, InvariantChecker checker, Tracer tracer, ReentrantLock lifecycle, long[] reloads,
            Runner.Bounded<Outcome> bound, Runner.Abandoned a, AtomicReference<Chaos> chaosRef) {
        try (Machine m = Machine.threaded(spec.cpus(), spec.tickNs(), tracer, spec.kernelProfile().core, speed)) {
            a.m = m;
            Kernel k = m.kernel();
            checker.attach(k);
            // an op that does not return ejects the scheduler (ERROR_STALL); ops.init() at load too
            OpWatch watch = OpWatch.start(k);
            bound.watch = watch;
            int ret = m.load(current.get());
            if (ret < 0) {
                watch.close();
                return new Outcome(RunResult.loadFailed(spec, ret, m.ext().dmesg()), null, "", "", 0, 0);
            }
            boolean[] ended = new boolean[1];
            Runnable reload = () -> {
                // chaos thread; never while the run is ending
                if (!lifecycle.tryLock()) {
                    return;
                }
                try {
                    if (ended[0] || m.ext().exitKind() != 0 || checker.violation() != null) {
                        return;
                    }
                    m.unload();
                    SchedExtOps next = opsFactory.get();
                    current.set(next);
                    if (m.load(next) == 0) {
                        reloads[0]++;
                    }
                } finally {
                    lifecycle.unlock();
                }
            };
            m.start();
            long startNs = k.now();
            a.startNs = startNs;
            workload.start(k, spec.cpus(), spec.seed());
            Chaos chaos = new Chaos(k, chaosCfg, spec.seed(), reload);
            chaosRef.set(chaos);
            chaos.start();
            long cpu0 = processCpuNs();
            long t0 = System.nanoTime();
            long e0 = k.now();
            a.t0 = e0;
            long skips0 = k.clock instanceof Clock.Warp ? ((Clock.Warp) k.clock).skips() : 0;
            long skipped0 = k.clock instanceof Clock.Warp ? ((Clock.Warp) k.clock).skippedNs() : 0;
            Runner.CoreLine core = new Runner.CoreLine(k, 0);
            long end = t0 + spec.durationNs();
            long nextSecond = t0 + SECOND_NS;
            long nextCheck = t0;
            int second = 0;
            for (;;) {
                long now = System.nanoTime();
                if (checker.violation() != null || k.bug() != null || now - end >= 0) {
                    break;
                }
                if (m.ext().exitKind() != 0 && ejectedNotReloading(m, lifecycle)) {
                    break;
                }
                if (now - nextCheck >= 0) {
                    checker.checkQuiescent();
                    nextCheck = now + CHECK_INTERVAL_NS;
                    continue;
                }
                if (now - nextSecond >= 0) {
                    long el = speed == 1 ? now - t0 : k.now() - e0;
                    listener.second(++second, el, k, current.get(), core.line(el));
                    nextSecond += SECOND_NS;
                    continue;
                }
                LockSupport.parkNanos(Math.min(Math.min(nextCheck, nextSecond), end) - now);
            }
            long elapsed = System.nanoTime() - t0;
            watch.runEnded();
            a.endNs = k.now();
            long cpuNs = cpu0 < 0 ? -1 : processCpuNs() - cpu0;
            long emulated = k.now() - e0;
            Clock.Warp warp = k.clock instanceof Clock.Warp ? (Clock.Warp) k.clock : null;
            long warpSkips = warp == null ? 0 : warp.skips() - skips0;
            long warpSkipped = warp == null ? 0 : warp.skippedNs() - skipped0;
            if (checker.violation() != null) {
                // stop the CPUs first, so the dump shows the machine close to the violation
                m.stop();
            }
            chaos.stop();
            lifecycle.lock();
            try {
                ended[0] = true;
            } finally {
                lifecycle.unlock();
            }
            // the final whole-machine check, unless the run already failed
            if (checker.violation() == null && k.bug() == null && m.ext().exitKind() == 0) {
                long giveUp = System.nanoTime() + 1_000_000_000L;
                while (!checker.checkQuiescent() && System.nanoTime() - giveUp < 0) {
                    LockSupport.parkNanos(1_000_000L);
                }
            }
            long endNs = k.now();
            InvariantChecker.Violation v = checker.violation();
            boolean ejected = m.ext().exitKind() != 0;
            if (ejected && v == null) {
                m.ext().awaitDisabled();
            }
            m.stop();
            Ending e = finish(m, checker, v, ejected, startNs);
            v = e.violation;
            String history = e.history;
            String dump = e.dump;
            long ending = System.nanoTime() - t0 - elapsed;
            if (ending > END_GRACE_NS) {
                checker.violateFromHarness("liveness", String.format(Locale.ROOT, "the run took %d ms to end after its "
                        + "%d ms (chaos stop, final check, CPU stop, unload); the grace is %d ms", ending / 1_000_000,
                        elapsed / 1_000_000, END_GRACE_NS / 1_000_000));
                if (v == null) {
                    v = checker.violation();
                    history = checker.history(startNs);
                }
            }
            watch.close();
            if (!bound.claim()) {
                return null; // the caller gave up on this body and reported the run itself
            }
            RunResult r = RunResult.collect(spec, m, current.get(), workload, speed == 1 ? elapsed : emulated,
                    startNs, endNs, null, watch.stuck());
            putSections(r, checker, v, history, startNs, stallLimitNs, chaosCfg, reloads[0], chaos);
            Map<String, Object> ex = exploration(r, speed, chaos.racePointHits(), -1, -1);
            ex.put("emulated_ns", emulated);
            if (warp != null) {
                ex.put("skips", warpSkips);
                ex.put("skipped_ns", warpSkipped);
            }
            r.putSection("exploration", withRates(ex, elapsed, cpuNs));
            return new Outcome(r, v, history, dump, checker.checked(), checker.violations(), null, -1, null, elapsed,
                    cpuNs);
        }
    }

    /**
     * What a controlled stress run's harness actions hand back to the driver: when the next
     * chaos injection and the next whole-machine check are due, and whether one is queued. Owned
     * by whoever holds the controller's turn (the driver, or the harness participant running an
     * action): the turn's volatile hand-off orders every write here before the next holder's reads.
     */
    private static final class Schedule {
        long nextChaosNs;
        long nextCheckNs;
        boolean chaosQueued;
        boolean checkQueued;
        boolean finalCheckDone;
        boolean started;
        /** Set by an action when it is done, so that the driver schedules the next one. */
        boolean actionDone;
    }

    /** A whole-machine check that found a lock busy is tried again this much later (simulated). */
    static final long CHECK_RETRY_NS = 50_000L;
    /** The most attempts at the final whole-machine check of a controlled run. */
    static final int FINAL_CHECK_TRIES = 200;

    /**
     * As {@link #run}, on a controlled machine ({@link org.scxemu.harness.Machine#controlled}):
     * every thread of the run (the CPUs, the watchdog, the ops helper, and the workload's forks,
     * the chaos injections and the whole-machine checks as the harness participant's actions)
     * runs one at a time, handing over at the core's race points in an order {@code cs}'s seed
     * decides, on simulated time: the duration, the chaos pauses and the check interval are
     * simulated, the same specs give the same run, and the first violation stops it at a step
     * that a rerun reaches again. Chaos is stepped ({@link Chaos#startStepped}): its {@code delay}
     * injector is replaced by the controller's own choice at every race point, and {@code reload}
     * is not injected. The result also carries the {@code controlled} JSON section (with the
     * violation's step), the controller and the step.
     *
     * <p>Threads: the controller's driver runs on a thread of its own ({@link Runner.Bounded}); it
     * runs the listener (with the machine quiescent) and makes the report after the participants
     * were drained. The calling thread waits for it, and reports the run itself when an op never
     * returns (it holds the turn, so the driver never runs again).
     */
    public static Outcome runControlled(RunSpec spec, ControlledSpec cs, Supplier<SchedExtOps> opsFactory,
            Workload workload, ChaosConfig chaosCfg, long stallLimitNs, Runner.Listener listener, Tracer extra) {
        processCpuNs(); // loads the management classes now, not inside the measured run
        InvariantChecker checker = new InvariantChecker(spec.cpus(), stallLimitNs);
        Tracer tracer = Tracer.tee(checker, extra);
        SchedExtOps ops = opsFactory.get();
        // the driver on its own thread: an op that never returns holds the controller's turn
        Runner.Bounded<Outcome> bound = new Runner.Bounded<>();
        Runner.Abandoned a = new Runner.Abandoned();
        AtomicReference<Chaos> chaosRef = new AtomicReference<>();
        long wall0 = System.nanoTime();
        return bound.run(() -> Carriers.drive(() -> runControlledBody(spec, cs, ops, workload, chaosCfg, stallLimitNs,
                listener, checker, tracer, bound, a, chaosRef)),
                stuck -> abandoned(spec, a, ops, workload, stuck, checker, chaosRef.get(), chaosCfg, stallLimitNs, 1,
                        a.controller, System.nanoTime() - wall0));
    }

    private static Outcome runControlledBody(RunSpec spec, ControlledSpec cs, SchedExtOps ops, Workload workload,
            ChaosConfig chaosCfg, long stallLimitNs, Runner.Listener listener, InvariantChecker checker, Tracer tracer,
            Runner.Bounded<Outcome> bound, Runner.Abandoned a, AtomicReference<Chaos> chaosRef) {
        try (Machine m = Machine.controlled(spec.cpus(), spec.tickNs(), tracer, spec.kernelProfile().core, cs)) {
            a.m = m;
            Kernel k = m.kernel();
            Controller c = m.controller();
            a.controller = c;
            checker.attach(k);
            // an op that sleeps on host time is caught here too; ops.init() at load as well
            OpWatch watch = OpWatch.start(k);
            bound.watch = watch;
            int ret = m.load(ops);
            if (ret < 0) {
                watch.close();
                return new Outcome(RunResult.loadFailed(spec, ret, m.ext().dmesg()), null, "", "", 0, 0, c, -1,
                        null, 0, -1);
            }
            // the step during which the first violation happened: the one before the hand-over that
            // first sees it (driver thread)
            long[] violationStep = {-1};
            c.onHandOver((ctl, step, from, point, to) -> {
                if (violationStep[0] < 0 && checker.violation() != null) {
                    violationStep[0] = step - 1;
                }
            });
            m.start();
            long cpu0 = processCpuNs();
            long wall0 = System.nanoTime();
            long startNs = k.now();
            a.startNs = startNs;
            java.util.function.BooleanSupplier bad = () -> checker.violation() != null || m.ext().exitKind() != 0;
            Schedule sched = new Schedule();
            c.submit(() -> {
                workload.start(k, spec.cpus(), spec.seed());
                sched.started = true;
            });
            // the workload's start, stopped early by a violation or an exit like the rest of the run
            Controller.Stop stop = c.runUntil(() -> sched.started || bad.getAsBoolean(), Long.MAX_VALUE,
                    Long.MAX_VALUE);
            // reload is not injected in stepped mode: the callback is never called
            Chaos chaos = new Chaos(k, chaosCfg, spec.seed(), () -> { });
            chaosRef.set(chaos);
            chaos.startStepped();
            long t0 = k.now();
            a.t0 = t0;
            long end = t0 + spec.durationNs();
            Runner.CoreLine core = new Runner.CoreLine(k, 0);
            sched.nextChaosNs = t0;
            sched.nextCheckNs = t0 + CHECK_INTERVAL_NS;
            long nextSecond = t0 + SECOND_NS;
            int second = 0;
            if (stop == Controller.Stop.CONDITION && sched.started && !bad.getAsBoolean()) {
                stop = null;
                for (;;) {
                    long now = k.now();
                    if (now - end >= 0) {
                        break;
                    }
                    if (!sched.chaosQueued && now - sched.nextChaosNs >= 0) {
                        sched.chaosQueued = true;
                        c.submit(() -> {
                            long pause = chaos.step();
                            sched.nextChaosNs = pause == Long.MAX_VALUE ? Long.MAX_VALUE : k.now() + pause;
                            sched.chaosQueued = false;
                            sched.actionDone = true;
                        });
                    }
                    if (!sched.checkQueued && now - sched.nextCheckNs >= 0) {
                        sched.checkQueued = true;
                        c.submit(() -> {
                            boolean ran = checker.checkQuiescent();
                            sched.nextCheckNs = k.now() + (ran ? CHECK_INTERVAL_NS : CHECK_RETRY_NS);
                            sched.checkQueued = false;
                            sched.actionDone = true;
                        });
                    }
                    if (now - nextSecond >= 0) {
                        listener.second(++second, now - t0, k, ops, core.line(now - t0));
                        nextSecond += SECOND_NS;
                        continue;
                    }
                    long until = Math.min(end, nextSecond);
                    if (!sched.chaosQueued) {
                        until = Math.min(until, sched.nextChaosNs);
                    }
                    if (!sched.checkQueued) {
                        until = Math.min(until, sched.nextCheckNs);
                    }
                    sched.actionDone = false;
                    Controller.Stop s = c.runUntil(() -> sched.actionDone || bad.getAsBoolean(), until,
                            Long.MAX_VALUE);
                    if (s == Controller.Stop.CONDITION && !bad.getAsBoolean()) {
                        continue; // an action is done: schedule the next one
                    }
                    if (s != Controller.Stop.TIME) {
                        stop = s;
                        break;
                    }
                }
            }
            String stoppedBy = stop == null ? "duration" : stop == Controller.Stop.CONDITION
                    ? (checker.violation() != null ? "violation" : "exit") : stop.jsonName();
            long elapsed = k.now() - t0;
            // the end, still under control: chaos stops, then the final whole-machine check
            if (stop == null) {
                stop = c.runAction(chaos::stop);
                for (int i = 0; i < FINAL_CHECK_TRIES && stop == Controller.Stop.CONDITION && !bad.getAsBoolean()
                        && !sched.finalCheckDone; i++) {
                    stop = c.runAction(() -> sched.finalCheckDone = checker.checkQuiescent());
                    if (!sched.finalCheckDone && stop == Controller.Stop.CONDITION) {
                        stop = c.runUntil(bad, k.now() + CHECK_RETRY_NS, Long.MAX_VALUE);
                        stop = stop == Controller.Stop.TIME ? Controller.Stop.CONDITION : stop;
                    }
                }
            }
            long endNs = k.now();
            watch.runEnded();
            a.endNs = endNs;
            long wallNs = System.nanoTime() - wall0;
            long cpuNs = cpu0 < 0 ? -1 : processCpuNs() - cpu0;
            long endStep = c.steps();
            InvariantChecker.Violation v = checker.violation();
            if (v != null && violationStep[0] < 0) {
                violationStep[0] = endStep;
            }
            if (stop == Controller.Stop.DEADLOCK) {
                k.reportBug(new IllegalStateException("controlled stress run: no thread can run (a lock cycle or a"
                        + " lost wakeup) at " + c.where()));
            }
            boolean ejected = m.ext().exitKind() != 0;
            m.stop();
            if (ejected) {
                m.ext().awaitDisabled();
            }
            Ending e = finish(m, checker, v, ejected, startNs);
            if (e.afterUnload) {
                violationStep[0] = endStep;
                stoppedBy = "violation";
            }
            v = e.violation;
            String history = e.history;
            String dump = e.dump;
            watch.close();
            if (!bound.claim()) {
                return null; // the caller gave up on this driver and reported the run itself
            }
            RunResult r = RunResult.collect(spec, m, ops, workload, elapsed, startNs, endNs, null, watch.stuck());
            putSections(r, checker, v, history, startNs, stallLimitNs, chaosCfg, 0, chaos);
            Map<String, Object> ctl = c.toJson(stoppedBy);
            ctl.put("end_step", endStep);
            if (v != null) {
                ctl.put("violation_step", violationStep[0]);
            }
            r.putSection("controlled", ctl);
            Map<String, Object> ex = exploration(r, 1, c.racePointHits(), c.switches(), c.steps());
            ex.put("emulated_ns", elapsed);
            r.putSection("exploration", ex);
            return new Outcome(r, v, history, dump, checker.checked(), checker.violations(), c, violationStep[0],
                    stoppedBy, wallNs, cpuNs);
        }
    }

    /**
     * The report of a run whose body was abandoned with an op stuck in the scheduler's code
     * ({@link Runner.Bounded}), both modes: the result from what the machine holds now, the
     * invariant and chaos sections as far as the run got, and, for a controlled run, its
     * {@code controlled} section (stopped by the exit). The stuck thread holds its locks (and, in
     * a controlled run, the turn), so nothing is stopped or unloaded: the process ends around it.
     */
    private static Outcome abandoned(RunSpec spec, Runner.Abandoned a, SchedExtOps ops, Workload workload,
            OpWatch.Stuck stuck, InvariantChecker checker, Chaos chaos, ChaosConfig chaosCfg, long stallLimitNs,
            long speed, Controller c, long wallNs) {
        RunResult r = a.collect(spec, ops, workload, stuck);
        InvariantChecker.Violation v = checker.violation();
        String history = v == null ? "" : checker.history(a.startNs);
        putSections(r, checker, v, history, a.startNs, stallLimitNs, chaosCfg, 0, chaos);
        long hits = chaos == null ? 0 : chaos.racePointHits();
        if (c != null) {
            r.putSection("controlled", c.toJson("exit"));
            r.putSection("exploration", exploration(r, 1, c.racePointHits(), c.switches(), c.steps()));
        } else {
            r.putSection("exploration", withRates(exploration(r, speed, hits, -1, -1), wallNs, -1));
        }
        return new Outcome(r, v, history, "", checker.checked(), checker.violations(), c, -1, c == null ? null
                : "exit", wallNs, -1);
    }

    /**
     * How a run ended, both modes.
     *
     * @param violation   the first violation (found while running or after the unload), or null
     * @param history     the CPUs' recent events, when there is a violation
     * @param dump        the kernel-format dump, for a violation found while running
     * @param afterUnload whether the violation was found only after the unload
     */
    private record Ending(InvariantChecker.Violation violation, String history, String dump, boolean afterUnload) {
    }

    /**
     * The end of a run, both modes, once {@code m}'s CPU threads have stopped: the history and dump
     * of a violation found while running, then, unless the scheduler was ejected, the unload and
     * (if all was well) the check that it left nothing on a DSQ.
     */
    private static Ending finish(Machine m, InvariantChecker checker, InvariantChecker.Violation violation,
            boolean ejected, long startNs) {
        String history = violation == null ? "" : checker.history(startNs);
        String dump = violation == null ? "" : checker.dump(violation);
        if (!ejected) {
            m.unload();
        }
        if (ejected || violation != null) {
            return new Ending(violation, history, dump, false);
        }
        // after the unload every task is back on fair: nothing may be left on a DSQ
        checker.checkQuiescent();
        InvariantChecker.Violation late = checker.violation();
        return new Ending(late, late == null ? "" : checker.history(startNs), "", late != null);
    }

    /**
     * The {@code exploration} section's counts: how hard the run searched. A release window is a
     * {@code cpu_release} .. {@code cpu_acquire} span of a CPU (the per-CPU {@code release_windows}
     * summed); a race-point hit is one thread reaching one of the core's
     * {@link org.scxemu.kernel.RacePoint}s; a step and a hand-over (controlled runs only, else
     * omitted) are the controller's: a step is one choice of the next thread, a hand-over a step
     * that gave the machine to another thread. {@link #withRates} adds the same per host second.
     *
     * @param speed     the time compression: 1 none, N a scale, {@link Clock#WARP} skipping
     * @param hits      race-point hits
     * @param handOvers hand-overs, or -1 for a threaded run
     * @param steps     controlled steps, or -1 for a threaded run
     */
    static Map<String, Object> exploration(RunResult r, long speed, long hits, long handOvers, long steps) {
        long windows = 0;
        for (RunResult.CpuSummary c : r.perCpu) {
            windows += c.releaseWindows();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("time", speed == Clock.WARP ? "warp" : speed == 1 ? (handOvers >= 0 ? "simulated" : "host") : "scaled");
        m.put("speed", speed == Clock.WARP ? 1 : speed);
        m.put("release_windows", windows);
        m.put("race_point_hits", hits);
        if (handOvers >= 0) {
            m.put("steps", steps);
            m.put("hand_overs", handOvers);
        }
        return m;
    }

    /** The counts of an {@code exploration} section, as {@link #exploration} names them. */
    private static final List<String> COUNTS = List.of("release_windows", "race_point_hits", "steps", "hand_overs");

    /**
     * Adds to an {@code exploration} section the host time its counts were made in
     * ({@code wall_ns}), the CPU time the process used meanwhile ({@code cpu_ns}, when the JVM can
     * say) and each count per host second ({@code release_windows_per_s}, ...). A
     * threaded run always has them; a controlled run only when asked (host time would make its
     * JSON differ from run to run, where the same seed otherwise gives the same bytes).
     */
    public static Map<String, Object> withRates(Map<String, Object> exploration, long wallNs, long cpuNs) {
        double secs = Math.max(1, wallNs) / 1e9;
        Map<String, Object> m = new LinkedHashMap<>(exploration);
        m.put("wall_ns", wallNs);
        if (cpuNs >= 0) {
            // on a shared host the wall rates depend on what else runs; CPU time says what the run cost
            m.put("cpu_ns", cpuNs);
        }
        Object em = exploration.get("emulated_ns");
        if (em instanceof Long) {
            // the compression achieved: emulated ns per host ns
            m.put("emulated_per_host", Math.round(100.0 * (Long) em / Math.max(1, wallNs)) / 100.0);
        }
        for (String k : COUNTS) {
            Object v = exploration.get(k);
            if (v instanceof Long) {
                m.put(k + "_per_s", Math.round((Long) v / secs));
            }
        }
        return m;
    }

    /** The CPU time this process has used so far (every thread), or -1 if the JVM cannot say. */
    static long processCpuNs() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory
                .getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean) {
            return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
        }
        return -1;
    }

    /** {@code "12,345 release windows/s, ..."}: an exploration section's rates, for the console. */
    @SuppressWarnings("unchecked")
    public static String ratesLine(Map<String, Object> exploration) {
        StringBuilder b = new StringBuilder();
        String[][] words = {
            {"release_windows_per_s", "release windows/s"}, {"race_point_hits_per_s", "race-point hits/s"},
            {"hand_overs_per_s", "hand-overs/s"}, {"steps_per_s", "steps/s"},
        };
        for (String[] w : words) {
            Object v = exploration.get(w[0]);
            if (v instanceof Long) {
                b.append(b.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%,d %s", (Long) v, w[1]));
            }
        }
        return b.toString();
    }

    /** The {@code invariants} and {@code chaos} sections of the JSON summary. */
    private static void putSections(RunResult r, InvariantChecker checker, InvariantChecker.Violation v,
            String history, long startNs, long stallLimitNs, ChaosConfig chaosCfg, long reloads, Chaos chaos) {
        Map<String, Object> inv = new LinkedHashMap<>();
        inv.put("checked", checker.checked());
        inv.put("violations", checker.violations());
        inv.put("machine_checks", checker.quiescentChecks());
        inv.put("stall_limit_ns", stallLimitNs);
        if (v != null) {
            Map<String, Object> first = new LinkedHashMap<>();
            first.put("invariant", v.invariant);
            first.put("message", v.message);
            first.put("task", v.task);
            List<Object> cpus = new ArrayList<>();
            for (int c : v.cpus) {
                cpus.add((long) c);
            }
            first.put("cpus", cpus);
            first.put("at_ns", v.atNs - startNs);
            first.put("history", history);
            inv.put("first", first);
        }
        r.putSection("invariants", inv);
        Map<String, Object> chaosJson = new LinkedHashMap<>();
        chaosJson.put("config", chaosCfg.toString());
        chaosJson.put("reloads", reloads);
        Map<String, Object> counts = new LinkedHashMap<>();
        // no chaos when the run was abandoned before it started
        for (Map.Entry<String, Long> e : chaos == null ? Map.<String, Long>of().entrySet()
                : chaos.counts().entrySet()) {
            counts.put(e.getKey(), e.getValue());
        }
        chaosJson.put("injections", counts);
        r.putSection("chaos", chaosJson);
    }
}
