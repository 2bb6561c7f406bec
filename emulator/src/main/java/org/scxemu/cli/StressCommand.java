// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.scxemu.harness.Json;
import org.scxemu.harness.KernelProfile;
import org.scxemu.harness.RunResult;
import org.scxemu.harness.RunSpec;
import org.scxemu.harness.Runner;
import org.scxemu.harness.controlled.ControlledSpec;
import org.scxemu.harness.controlled.Controller;
import org.scxemu.harness.controlled.HandOverTrace;
import org.scxemu.harness.controlled.Strategy;
import org.scxemu.harness.stress.ChaosConfig;
import org.scxemu.harness.stress.StressRunner;
import org.scxemu.harness.trace.TraceRecorder;
import org.scxemu.harness.workload.Workload;
import org.scxemu.kernel.Clock;
import org.scxemu.kernel.InvariantChecker;
import org.scxemu.kernel.Tracer;
import org.scxemu.scx.SchedExtOps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scx-emu stress}: {@code run}'s options plus chaos settings; the run is checked against
 * the invariants of {@link InvariantChecker} while chaos injects RT/DL/stop bursts, sleeps and
 * wakeups, affinity changes, forks and exits, kicks, reloads and delays at the core's race
 * windows. Exits 0 when the run ended clean, 1 when the scheduler was ejected, 2 for bad usage, 3
 * when an invariant was violated (the report goes to stderr: the invariant, the task and CPUs, the
 * seed, the CPUs' recent events and the kernel-format dump).
 *
 * <p>With {@code --controlled} the run is a controlled one ({@link StressRunner#runControlled}):
 * the seed decides every hand-over and every injection, a violation is reported with the step at
 * which it happened and the last hand-overs, and the same seed replays it exactly. With
 * {@code --search N} it tries seeds S .. S+N-1 and stops at the first that violates an invariant
 * (the one {@code --search-invariant} names, if given).
 *
 * <p>Runs on the picocli thread, which is also the controller's driver in a controlled run.
 */
@Command(name = "stress", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a scheduler under chaos with invariant checks; exit 3 on a violation.")
final class StressCommand extends RunCommand {
    /** The most seeds {@code --search} may try. */
    static final int SEARCH_MAX = 1_000_000;

    @Option(names = "--chaos", paramLabel = "SPEC", defaultValue = "all",
            description = "Injectors and weights: all (default), none, or a list such as rt=2,dl,stop,sleep,"
                    + "affinity,forkexit,kick,reload,delay (a name alone weighs 1, =0 turns it off).")
    String chaos;

    @Option(names = "--stall-limit", paramLabel = "TIME", defaultValue = "watchdog",
            description = "Liveness: the longest a runnable ext task may wait, e.g. 2s; default: what the watchdog"
                    + " allows (the scheduler's timeout plus its scan interval).")
    String stallLimit;

    @Option(names = "--search", paramLabel = "N",
            description = "--controlled: try the seeds S, S+1, ..., S+N-1 (S is --seed) and stop at the first whose"
                    + " run violates an invariant; exit 3 if one did, 0 if none.")
    Integer search;

    @Option(names = "--search-invariant", paramLabel = "NAME",
            description = "--search: only a violation of NAME counts (conservation, affinity, release_acquire,"
                    + " cpu_release_missed, reenqueue_context, ops_state, pnt_seq, kick_wait, ownership, liveness).")
    String searchInvariant;

    @Option(names = "--speed", paramLabel = "warp|N|auto", defaultValue = "auto",
            description = "Time compression: warp skips the clock ahead whenever every CPU waits (faithful), N runs"
                    + " emulated time N times as fast as the host's (1.." + SPEED_MAX + "; 1 is none); auto"
                    + " (default): warp, or none with --controlled. --duration stays host time.")
    String speed;

    @Option(names = "--rates", description = "--controlled: also record the exploration rate per host second in the"
            + " JSON and print it (the output then differs from run to run).")
    boolean rates;

    /** The highest --speed N. */
    static final long SPEED_MAX = 10_000;

    /** What one stress run needs besides its seed; built once, after validation. */
    private record Setup(Schedulers.Entry entry, Map<String, Object> given, ChaosConfig cfg, long stallLimitNs,
            ControlledSpec cs, long speed) {
    }

    /**
     * --speed: N, or {@link Clock#WARP}. auto is warp for a free-running run (it changes no event
     * order and amplifies no host stall, see {@link Clock.Warp}) and none for a controlled one (its
     * time is simulated already).
     */
    private long parseSpeed() {
        if ("auto".equals(speed)) {
            return controlled ? 1 : Clock.WARP;
        }
        if ("warp".equals(speed)) {
            if (controlled) {
                throw usage("--speed warp: only without --controlled (a controlled run's time is simulated)");
            }
            return Clock.WARP;
        }
        long n;
        try {
            n = Long.parseLong(speed);
        } catch (NumberFormatException e) {
            throw usage("--speed " + speed + ": not a number, 'warp' or 'auto'");
        }
        checkRange("--speed", n, 1, SPEED_MAX);
        if (controlled && n != 1) {
            throw usage("--speed " + speed + ": only without --controlled (a controlled run's time is simulated)");
        }
        return n;
    }

    @Override
    public Integer call() {
        Schedulers.Entry entry = validate();
        ChaosConfig cfg;
        try {
            cfg = ChaosConfig.parse(chaos);
        } catch (IllegalArgumentException e) {
            throw usage("--chaos " + chaos + ": " + e.getMessage());
        }
        long stallLimitNs = 0;
        if (!"watchdog".equals(stallLimit)) {
            try {
                stallLimitNs = new Durations().convert(stallLimit);
            } catch (Exception e) {
                throw usage("--stall-limit " + stallLimit + ": " + e.getMessage());
            }
            if (stallLimitNs <= 0) {
                throw usage("--stall-limit " + stallLimit + ": must be positive, or 'watchdog'");
            }
        }
        validateSearch();
        long sp = parseSpeed();
        if (rates && !controlled) {
            throw usage("--rates: only with --controlled (a free-running stress run always reports its rates)");
        }
        Setup setup = new Setup(entry, givenSchedulerOptions(), cfg, stallLimitNs,
                controlled ? controlledSpec(trace != null) : null, sp);
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = humanOut(spec.commandLine().getOut(), err);
        if (search != null) {
            return search(setup, out, err);
        }
        RunSpec rs = runSpec(setup, seed, Schedulers.newApplied());
        printHeader(out, rs, setup);
        TraceRecorder recorder = trace == null ? null : new TraceRecorder(cpus, TRACE_MAX_EVENTS);
        // the progress indicator, as run shows it (--no-progress turns it off)
        Progress progress = Progress.wanted(Main.terminal && out == spec.commandLine().getOut(), noProgress,
                durationNs) ? new Progress(out, durationNs) : null;
        StressRunner.Outcome o;
        try {
            o = stressOnce(setup, rs, (second, elapsedNs, k, ops, coreLine) -> {
                if (progress != null) {
                    progress.clear();
                }
                String line = ops.statsLine();
                if (line != null && !line.isEmpty()) {
                    out.println(line.endsWith("\n") ? line.substring(0, line.length() - 1) : line);
                }
                out.println(coreLine);
                if (progress != null) {
                    progress.show(elapsedNs);
                }
                out.flush();
            }, recorder);
        } finally {
            if (progress != null) {
                progress.clear();
            }
        }
        return report(setup, rs, o, recorder, out, err);
    }

    /** --search and --search-invariant: each needs what it refines. */
    private void validateSearch() {
        if (search != null) {
            if (!controlled) {
                throw usage("--search: only with --controlled");
            }
            checkRange("--search", search, 1, SEARCH_MAX);
        }
        if (searchInvariant != null) {
            if (search == null) {
                throw usage("--search-invariant: only with --search");
            }
            if (!InvariantChecker.INVARIANTS.contains(searchInvariant)) {
                throw usage("--search-invariant " + searchInvariant + ": unknown invariant; valid: "
                        + String.join(", ", InvariantChecker.INVARIANTS));
            }
        }
    }

    private RunSpec runSpec(Setup setup, long s, Map<String, Object> applied) {
        return new RunSpec(setup.entry().name(), applied, workload(), cpus, 1_000_000_000L / tickHz, durationNs, s,
                KernelProfile.byId(kernel));
    }

    private String workload() {
        return theWorkload.name();
    }

    private void printHeader(PrintWriter out, RunSpec rs, Setup setup) {
        ControlledSpec cs = setup.cs();
        out.printf("scx-emu: stress %s on %d CPUs, workload %s, kernel %s, seed %d, chaos %s, %s%s%n",
                rs.scheduler(), cpus, rs.workload(), rs.kernelProfile().id, rs.seed(), setup.cfg(),
                SummaryTable.seconds(durationNs), cs == null ? "" : ", " + controlledWords(cs));
        if (cs != null && (setup.cfg().enabled("delay") || setup.cfg().enabled("reload"))) {
            out.println("note: --controlled: the controller chooses the next thread at every race point (that"
                    + " replaces delay), and reload is not injected");
        }
        out.flush();
    }

    private static String controlledWords(ControlledSpec cs) {
        return "controlled (" + cs.strategy() + (Strategy.PCT.equals(cs.strategy()) ? ", depth " + cs.pctDepth()
                : "") + "), simulated time";
    }

    /** One stress run with seed {@code rs.seed()}: free-running, or controlled with that seed. */
    private StressRunner.Outcome stressOnce(Setup setup, RunSpec rs, Runner.Listener listener,
            TraceRecorder recorder) {
        Schedulers.Entry entry = setup.entry();
        SchedExtOps first = entry.factory().create(setup.given(), rs.schedulerOptions(), cpus);
        boolean[] firstUsed = new boolean[1];
        Supplier<SchedExtOps> factory = () -> {
            if (!firstUsed[0]) {
                firstUsed[0] = true;
                return first;
            }
            return entry.factory().create(setup.given(), Schedulers.newApplied(), cpus);
        };
        Workload w = createWorkload();
        Tracer tracer = recorder == null ? Tracer.NONE : recorder;
        if (setup.cs() == null) {
            return StressRunner.run(rs, factory, w, setup.cfg(), setup.stallLimitNs(), setup.speed(), listener,
                    tracer);
        }
        StressRunner.Outcome o = StressRunner.runControlled(rs, setup.cs().withSeed(rs.seed()),
                factory, w, setup.cfg(), setup.stallLimitNs(), listener, tracer);
        if (rates && o.result.section("exploration") != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> e = (Map<String, Object>) o.result.section("exploration");
            o.result.putSection("exploration", StressRunner.withRates(e, o.wallNs, o.cpuNs));
        }
        return o;
    }

    /**
     * The exploration line: how hard the run searched. A free-running run gives its speed and
     * rates per host second; a controlled one its counts (the same for the same seed), and its
     * rates with --rates.
     */
    @SuppressWarnings("unchecked")
    private void printExploration(PrintWriter out, StressRunner.Outcome o) {
        Object sec = o.result.section("exploration");
        if (!(sec instanceof Map)) {
            return;
        }
        Map<String, Object> e = (Map<String, Object>) sec;
        if (e.containsKey("wall_ns")) {
            String time = "warp".equals(e.get("time")) ? "warp" : "scaled".equals(e.get("time"))
                    ? "speed " + e.get("speed") : (String) e.get("time");
            out.printf(java.util.Locale.ROOT, "exploration: %s (time %s: %.2f s host%s, %s emulated)%n",
                    StressRunner.ratesLine(e), time, (Long) e.get("wall_ns") / 1e9,
                    e.containsKey("cpu_ns") ? String.format(java.util.Locale.ROOT, " using %.2f s of CPU",
                            (Long) e.get("cpu_ns") / 1e9) : "",
                    e.containsKey("emulated_ns") ? SummaryTable.seconds((Long) e.get("emulated_ns")) : "-");
        } else {
            out.printf(java.util.Locale.ROOT, "exploration: %,d release windows, %,d race-point hits, %,d hand-overs"
                    + " in %,d steps%n", (Long) e.get("release_windows"), (Long) e.get("race_point_hits"),
                    (Long) e.get("hand_overs"), (Long) e.get("steps"));
        }
    }

    /** --search: seeds S .. S+N-1, one line each, until one violates the invariant sought. */
    private Integer search(Setup setup, PrintWriter out, PrintWriter err) {
        String sought = searchInvariant == null ? "any invariant" : searchInvariant;
        out.printf("scx-emu: stress %s on %d CPUs, workload %s, kernel %s, chaos %s, %s, %s: searching seeds %d..%d"
                + " for a violation of %s%n", setup.entry().name(), cpus, workload(), kernel, setup.cfg(),
                SummaryTable.seconds(durationNs), controlledWords(setup.cs()), seed, seed + search - 1, sought);
        out.flush();
        for (long s = seed; s < seed + search; s++) {
            RunSpec rs = runSpec(setup, s, Schedulers.newApplied());
            TraceRecorder recorder = trace == null ? null : new TraceRecorder(cpus, TRACE_MAX_EVENTS);
            StressRunner.Outcome o = stressOnce(setup, rs, Runner.Listener.NONE, recorder);
            RunResult r = o.result;
            InvariantChecker.Violation v = o.violation;
            boolean hit = v != null && (searchInvariant == null || searchInvariant.equals(v.invariant));
            String what;
            if (r.loadRet < 0) {
                what = "load failed: error " + r.loadRet;
            } else if (r.bug != null) {
                what = "kernel BUG: " + Main.oneLine(r.bug);
            } else if (v != null) {
                what = v.invariant + " at step " + o.violationStep + (hit ? "" : " (not the one sought)");
            } else if (!r.unloadedNormally()) {
                what = "ejected: SCX_EXIT_" + r.exitKindName + " (" + r.exitReason + ")";
            } else {
                what = "clean";
            }
            out.printf("seed %d: %s (%d steps)%n", s, what, o.controller == null ? 0 : o.controller.steps());
            out.flush();
            if (hit) {
                out.printf("found: seed %d reproduces %s at step %d; replay it with:%n  %s%n", s, v.invariant,
                        o.violationStep, rerunCommand(s, true));
                out.flush();
                Integer written = writeOutputs(rs, o, recorder, err);
                return written != null ? written : Main.EXIT_VIOLATION;
            }
        }
        out.printf("not found: no seed of %d..%d violates %s%n", seed, seed + search - 1, sought);
        out.flush();
        return Main.EXIT_OK;
    }

    /** The end of a single run: summary, outputs, report, exit status. */
    private Integer report(Setup setup, RunSpec rs, StressRunner.Outcome o, TraceRecorder recorder,
            PrintWriter out, PrintWriter err) {
        RunResult r = o.result;
        String name = setup.entry().name();
        if (r.loadRet < 0) {
            err.println(Main.PREFIX + "failed to load scheduler " + name + ": error " + r.loadRet);
            printDmesg(err, r.dmesg);
            return Main.EXIT_EJECTED;
        }
        if (r.bug != null) {
            err.println(Main.PREFIX + "internal error: kernel BUG: " + Main.oneLine(r.bug));
            printReplay(err, o);
            return Main.EXIT_INTERNAL;
        }
        SummaryTable.print(out, r);
        out.printf("invariants: %d checks, %d violations%n", o.checked, o.violations);
        printExploration(out, o);
        out.flush();
        Integer written = writeOutputs(rs, o, recorder, err);
        if (written != null) {
            return written;
        }
        if (o.violation != null) {
            printViolation(err, rs, o, setup.cs());
            return Main.EXIT_VIOLATION;
        }
        if (!r.unloadedNormally()) {
            printEjection(err, name, r);
            printReplay(err, o);
            return Main.EXIT_EJECTED;
        }
        return Main.EXIT_OK;
    }

    /** Writes --json and --trace together; returns null, or the exit status if they cannot be written. */
    private Integer writeOutputs(RunSpec rs, StressRunner.Outcome o, TraceRecorder recorder, PrintWriter err) {
        RunResult r = o.result;
        Map<Path, String> outputs = new LinkedHashMap<>();
        if (json != null) {
            outputs.put(json, Json.write(r.toJson()));
        }
        if (recorder != null) {
            Map<String, Object> facts = new LinkedHashMap<>();
            facts.put("scheduler", rs.scheduler());
            facts.put("workload", rs.workload());
            facts.put("cpus", (long) cpus);
            facts.put("kernel_profile", rs.kernelProfile().id);
            facts.put("seed", rs.seed());
            facts.put("exit_kind", r.exitKindName);
            if (o.violation != null) {
                facts.put("invariant_violated", o.violation.invariant);
            }
            Map<String, Object> t = recorder.toTraceJson(r.startNs, r.endNs, facts);
            if (o.controller != null) {
                @SuppressWarnings("unchecked")
                Map<String, Object> ctl = (Map<String, Object>) r.section("controlled");
                HandOverTrace.addTo(t, o.controller, r.startNs, ctl,
                        o.violation != null ? o.violationStep : Long.MAX_VALUE);
                if (o.violation != null) {
                    addViolationEvent(t, o, r.startNs);
                }
            }
            outputs.put(trace, Json.write(t));
        }
        if (writeOutputs(outputs, spec.commandLine().getOut(), err)) {
            return null;
        }
        return o.violation != null ? Main.EXIT_VIOLATION : r.unloadedNormally() ? Main.EXIT_IO : Main.EXIT_EJECTED;
    }

    /**
     * The violation as the trace's last hand-over track event: an instant on the track of the
     * participant that ran the violating step, named by the invariant.
     */
    @SuppressWarnings("unchecked")
    private static void addViolationEvent(Map<String, Object> root, StressRunner.Outcome o, long fromNs) {
        List<Object> ev = (List<Object>) root.get("traceEvents");
        String to = "";
        List<String> last = o.controller.log().lastLines(1, o.violationStep);
        if (!last.isEmpty()) {
            String line = last.get(0);
            to = line.substring(line.lastIndexOf("-> ") + 3);
        }
        long tid = 0;
        for (int id = 0; id < o.controller.participants(); id++) {
            if (o.controller.participantName(id).equals(to)) {
                tid = id;
            }
        }
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", "invariant violated: " + o.violation.invariant);
        e.put("cat", "violation");
        e.put("ph", "i");
        e.put("pid", 2L);
        e.put("tid", tid);
        e.put("ts", (o.violation.atNs - fromNs) / 1000.0);
        e.put("s", "g");
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("step", o.violationStep);
        args.put("invariant", o.violation.invariant);
        args.put("message", o.violation.message);
        args.put("task", o.violation.task);
        e.put("args", args);
        ev.add(e);
    }

    /** The command line that reruns this stress run with seed {@code s} (controlled or not). */
    private String rerunCommand(long s, boolean ctl) {
        StringBuilder b = new StringBuilder("scx-emu stress --scheduler " + scheduler + " --cpus " + cpus
                + " --workload " + workload + " --kernel " + KernelProfile.byId(kernel).id + " --chaos " + chaos
                + " --duration " + durationArg(durationNs));
        for (Map.Entry<String, Object> e : givenSchedulerOptions().entrySet()) {
            b.append(' ').append(e.getKey());
            if (!Boolean.TRUE.equals(e.getValue())) {
                b.append(' ').append(e.getValue());
            }
        }
        if (!"watchdog".equals(stallLimit)) {
            b.append(" --stall-limit ").append(stallLimit);
        }
        if (tickHz != 1000) {
            b.append(" --tick-hz ").append(tickHz);
        }
        if (!ctl && !"auto".equals(speed)) {
            b.append(" --speed ").append(speed);
        }
        if (ctl) {
            b.append(" --controlled");
            if (strategy != null) {
                b.append(" --strategy ").append(strategy);
            }
            if (pctDepth != null) {
                b.append(" --pct-depth ").append(pctDepth);
            }
            if (maxSteps != null) {
                b.append(" --max-steps ").append(maxSteps);
            }
        }
        return b.append(" --seed ").append(s).toString();
    }

    /** {@code ns} as --duration takes it: whole seconds, milliseconds, microseconds or nanoseconds. */
    static String durationArg(long ns) {
        if (ns % 1_000_000_000L == 0) {
            return ns / 1_000_000_000L + "s";
        }
        if (ns % 1_000_000L == 0) {
            return ns / 1_000_000L + "ms";
        }
        return ns % 1000 == 0 ? ns / 1000 + "us" : ns + "ns";
    }

    /** A controlled run that ended badly: where, so it can be replayed, and the last hand-overs there. */
    private static void printReplay(PrintWriter err, StressRunner.Outcome o) {
        Controller c = o.controller;
        if (c == null) {
            return;
        }
        long at = o.violationStep >= 0 ? o.violationStep : c.steps();
        err.println(Main.PREFIX + "controlled run: seed " + c.spec().seed() + ", step " + at + ", strategy "
                + c.spec().strategy() + "; rerun with the same seed to replay it, --trace to see every hand-over");
        for (String line : c.log().lastLines(LAST_HANDOVERS_SHOWN, at)) {
            err.println("[handover] " + line);
        }
        err.flush();
    }

    private void printViolation(PrintWriter err, RunSpec rs, StressRunner.Outcome o, ControlledSpec cs) {
        InvariantChecker.Violation v = o.violation;
        err.println(Main.PREFIX + "invariant violated: " + v.invariant + ": " + v.message);
        err.println("  task: " + (v.task.isEmpty() ? "-" : v.task) + "  cpus: " + v.cpus + "  at: "
                + (v.atNs - o.result.startNs) + " ns into the run");
        err.println("  scheduler: " + rs.scheduler() + "  cpus: " + rs.cpus() + "  kernel: " + rs.kernelProfile().id
                + "  seed: " + rs.seed());
        err.println("  rerun: " + rerunCommand(rs.seed(), cs != null));
        if (cs == null) {
            err.println("  replay it in controlled mode: " + rerunCommand(rs.seed(), true) + " --search 100"
                    + " --search-invariant " + v.invariant);
        }
        printReplay(err, o);
        err.println();
        err.println("Recent events (per CPU, oldest first):");
        err.print(o.history);
        if (!o.dump.isEmpty()) {
            err.println();
            err.println("DEBUG DUMP");
            err.println("=".repeat(80));
            err.println();
            err.print(o.dump.endsWith("\n") ? o.dump : o.dump + "\n");
            err.println("=".repeat(80));
        }
        err.flush();
    }
}
