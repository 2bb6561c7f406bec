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
import org.scxemu.harness.workload.Workload;
import org.scxemu.kernel.InvariantChecker;
import org.scxemu.kernel.Kernel;
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
 * <p>Threads: this runs on the calling (harness) thread, which also makes the whole-machine
 * checks; chaos runs on its own thread and reloads the scheduler through {@link #reload}, which
 * is serialised with the end of the run by {@code lifecycle}.
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

        Outcome(RunResult result, InvariantChecker.Violation violation, String history, String dump, long checked,
                long violations) {
            this.result = result;
            this.violation = violation;
            this.history = history;
            this.dump = dump;
            this.checked = checked;
            this.violations = violations;
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
        InvariantChecker checker = new InvariantChecker(spec.cpus(), stallLimitNs);
        Tracer tracer = Tracer.tee(checker, extra);
        AtomicReference<SchedExtOps> current = new AtomicReference<>(opsFactory.get());
        ReentrantLock lifecycle = new ReentrantLock();
        long[] reloads = new long[1];
        try (Machine m = Machine.threaded(spec.cpus(), spec.tickNs(), tracer, spec.kernelProfile().core)) {
            Kernel k = m.kernel();
            checker.attach(k);
            int ret = m.load(current.get());
            if (ret < 0) {
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
            workload.start(k, spec.cpus(), spec.seed());
            Chaos chaos = new Chaos(k, chaosCfg, spec.seed(), reload);
            chaos.start();
            long t0 = System.nanoTime();
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
                    listener.second(++second, now - t0, k, current.get(), core.line(now - t0));
                    nextSecond += SECOND_NS;
                    continue;
                }
                LockSupport.parkNanos(Math.min(Math.min(nextCheck, nextSecond), end) - now);
            }
            long elapsed = System.nanoTime() - t0;
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
            String history = "";
            String dump = "";
            if (v != null) {
                history = checker.history(startNs);
                dump = checker.dump(v);
            }
            if (!ejected) {
                m.unload();
                // after the unload every task is back on fair: nothing may be left on a DSQ
                if (v == null) {
                    checker.checkQuiescent();
                    v = checker.violation();
                    if (v != null) {
                        history = checker.history(startNs);
                    }
                }
            }
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
            RunResult r = RunResult.collect(spec, m, current.get(), workload, elapsed, startNs, endNs);
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
            chaosJson.put("reloads", reloads[0]);
            Map<String, Object> counts = new LinkedHashMap<>();
            for (Map.Entry<String, Long> e : chaos.counts().entrySet()) {
                counts.put(e.getKey(), e.getValue());
            }
            chaosJson.put("injections", counts);
            r.putSection("chaos", chaosJson);
            return new Outcome(r, v, history, dump, checker.checked(), checker.violations());
        }
    }
}
