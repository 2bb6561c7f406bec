// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.scxemu.harness.Json;
import org.scxemu.harness.KernelProfile;
import org.scxemu.harness.RunResult;
import org.scxemu.harness.RunSpec;
import org.scxemu.harness.Runner;
import org.scxemu.harness.controlled.ControlledSpec;
import org.scxemu.harness.controlled.Controller;
import org.scxemu.harness.controlled.HandOverTrace;
import org.scxemu.harness.controlled.Strategy;
import org.scxemu.harness.trace.TraceRecorder;
import org.scxemu.harness.workload.Workload;
import org.scxemu.harness.workload.WorkloadFile;
import org.scxemu.harness.workload.Workloads;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Tracer;
import org.scxemu.kernel.UserFaults;
import org.scxemu.schedulers.ScxPair;
import org.scxemu.scx.SchedExtOps;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code scx-emu run}: loads a scheduler on an emulated machine, runs a workload on it for a
 * while, prints the scheduler's stats line and a core line every second and a summary at the end,
 * optionally writes the JSON summary, and exits 0 (unloaded normally), 1 (ejected: the exit and
 * the kernel's dump on stderr) or 2 (bad usage, found before anything runs).
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a scheduler on a workload and report what happened.")
class RunCommand implements Callable<Integer> {
    static final int CPUS_MIN = 1;
    static final int TICK_HZ_MIN = 10;
    static final int TICK_HZ_MAX = 10_000;
    /** SCX_WATCHDOG_MAX_TIMEOUT: ops.timeout_ms may not exceed 30 s. */
    static final int TIMEOUT_MS_MAX = 30_000;
    static final long SLICE_US_MAX = 10_000_000L;
    static final int DSP_BATCH_MAX = 1 << 20;
    /** The most trace events kept (over all CPUs); later ones are counted as dropped. */
    static final int TRACE_MAX_EVENTS = 2_000_000;
    /** The most hand-overs a controlled run's trace keeps (the last ones: they lead to the end). */
    static final int TRACE_MAX_HANDOVERS = 1_000_000;
    /** Hand-overs printed when a controlled run ends in an ejection or a BUG. */
    static final int LAST_HANDOVERS_SHOWN = 20;
    static final int PCT_DEPTH_MAX = 1000;

    @Spec
    CommandSpec spec;

    @Option(names = "--scheduler", required = true, paramLabel = "NAME",
            description = "The scheduler: simple, qmap, central, pair, or class:NAME (a user's SchedExtOps class,"
                    + " with --classpath); see scx-emu list.")
    String scheduler;

    @Option(names = "--classpath", paramLabel = "PATH",
            description = "Where --scheduler class:NAME is loaded from: jars or directories, separated by ':'"
                    + " (';' on Windows).")
    String classpath;

    @Option(names = "--sched-opt", paramLabel = "KEY=VALUE",
            description = "class:NAME: an option for the user scheduler (repeatable), given to its public"
                    + " constructor taking a Map<String, String>, as a BPF loader sets rodata knobs.")
    List<String> schedOpts;
    @Option(names = "--bpf-set", paramLabel = "NAME=VALUE", description = "bpf:FILE: set a global of the object"
            + " before load, as its loader would (repeatable).")
    List<String> bpfSets = new java.util.ArrayList<>();

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "4",
            description = "Simulated CPUs, 1..256 (default ${DEFAULT-VALUE}).")
    int cpus;

    @Option(names = "--workload", paramLabel = "NAME", defaultValue = Workloads.DEFAULT,
            description = "The workload: a built-in one (default ${DEFAULT-VALUE}; see scx-emu list) or file:PATH"
                    + " (a JSON workload file).")
    String workload;

    @Option(names = "--duration", paramLabel = "TIME", defaultValue = "5s", converter = Durations.class,
            description = "How long to run: a number and a unit (ns, us, ms, s, m, h), e.g. 500ms, 5s, 1.5m;"
                    + " at most 24h (default ${DEFAULT-VALUE}).")
    long durationNs;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "The workload's seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--kernel", paramLabel = "PROFILE", defaultValue = "v7",
            description = "Kernel profile: v7, 6.12, 6.16, 6.19 (default ${DEFAULT-VALUE}; see scx-emu list).")
    String kernel;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the JSON summary to FILE (a regular file is"
            + " replaced atomically, a symlink's target is, a device or FIFO is written through; - is standard output,"
            + " and the human-readable output then goes to standard error).")
    Path json;

    @Option(names = "--trace", paramLabel = "FILE",
            description = "Write a trace for Perfetto (ui.perfetto.dev) or chrome://tracing to FILE (as --json"
                    + " writes; - is standard output).")
    Path trace;

    @Option(names = "--tick-hz", paramLabel = "N", defaultValue = "1000",
            description = "Scheduler tick rate, " + TICK_HZ_MIN + ".." + TICK_HZ_MAX + " (default ${DEFAULT-VALUE}).")
    int tickHz;

    @Option(names = "--no-progress", description = "No progress indicator (shown on a terminal for runs of 10 s"
            + " or more).")
    boolean noProgress;

    @Option(names = "--fifo", description = "simple: FIFO instead of weighted vtime (scx_simple -f).")
    boolean fifo;

    @Option(names = "--no-cpu-release", description = "qmap, pair: no ops.cpu_release (and no cpu_acquire).")
    boolean noCpuRelease;

    @Option(names = "--slice-us", paramLabel = "N",
            description = "qmap, central: slice in us (scx_qmap -s, scx_central -s).")
    Long sliceUs;

    @Option(names = "--central-cpu", paramLabel = "CPU", description = "central: the central CPU (scx_central -c).")
    Integer centralCpu;

    @Option(names = "--stride", paramLabel = "N",
            description = "pair: CPU pair stride (scx_pair -S, default cpus / 2).")
    Integer stride;

    @Option(names = "--as-written", description = "pair: the original's holes left open (SCX_DSQ_GLOBAL, no"
            + " select_cpu, no SCX_OPS_ENQ_LAST, no re-enqueue on cpu_release).")
    boolean asWritten;

    @Option(names = "--timeout-ms", paramLabel = "N",
            description = "qmap: watchdog timeout in ms, 1.." + TIMEOUT_MS_MAX + " (ops.timeout_ms).")
    Integer timeoutMs;

    @Option(names = "--stall-user-nth", paramLabel = "N", description = "qmap: drop every Nth user task (scx_qmap -t).")
    Long stallUserNth;

    @Option(names = "--stall-kernel-nth", paramLabel = "N",
            description = "qmap: drop every Nth kthread (scx_qmap -T).")
    Long stallKernelNth;

    @Option(names = "--dsp-batch", paramLabel = "N",
            description = "qmap: dispatch up to N tasks at once (scx_qmap -b).")
    Integer dspBatch;

    @Option(names = "--error-after", paramLabel = "N",
            description = "qmap: scx_bpf_error() after N enqueues (scx_qmap -e).")
    Long errorAfter;

    @Option(names = "--dsp-inf-loop-after", paramLabel = "N",
            description = "qmap: loop forever in dispatch after N dispatches (scx_qmap -l).")
    Long dspInfLoopAfter;

    @Option(names = "--controlled", description = "Controlled interleaving: the CPU threads run one at a time and"
            + " hand over at the core's race points, in an order the seed decides, on simulated time (same seed,"
            + " same run, same trace).")
    boolean controlled;

    @Option(names = "--strategy", paramLabel = "NAME", description = "--controlled: how the next thread is chosen:"
            + " random (uniform) or pct (probabilistic priorities with change points; default random).")
    String strategy;

    @Option(names = "--pct-depth", paramLabel = "D",
            description = "--strategy pct: the bug depth, D - 1 priority change points, 1.." + PCT_DEPTH_MAX
                    + " (default " + ControlledSpec.PCT_DEPTH_DEFAULT + ").")
    Integer pctDepth;

    @Option(names = "--max-steps", paramLabel = "N",
            description = "--controlled: end the run after N hand-overs (default " + ControlledSpec.MAX_STEPS_DEFAULT
                    + ").")
    Long maxSteps;

    /** The workload, made by validate(). */
    Workload theWorkload;

    CommandLine.ParameterException usage(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    /** The scheduler options given on the command line, by option name, in a fixed order. */
    Map<String, Object> givenSchedulerOptions() {
        Map<String, Object> g = new LinkedHashMap<>();
        if (fifo) {
            g.put("--fifo", Boolean.TRUE);
        }
        if (noCpuRelease) {
            g.put("--no-cpu-release", Boolean.TRUE);
        }
        if (asWritten) {
            g.put("--as-written", Boolean.TRUE);
        }
        putIfGiven(g, "--slice-us", sliceUs);
        putIfGiven(g, "--central-cpu", centralCpu);
        putIfGiven(g, "--stride", stride);
        putIfGiven(g, "--timeout-ms", timeoutMs);
        putIfGiven(g, "--stall-user-nth", stallUserNth);
        putIfGiven(g, "--stall-kernel-nth", stallKernelNth);
        putIfGiven(g, "--dsp-batch", dspBatch);
        putIfGiven(g, "--error-after", errorAfter);
        putIfGiven(g, "--dsp-inf-loop-after", dspInfLoopAfter);
        return g;
    }

    /** --sched-opt KEY=VALUE, in the order given; a later KEY replaces an earlier one. */
    private Map<String, String> parseSchedOpts(boolean userClass) {
        Map<String, String> m = new LinkedHashMap<>();
        if (schedOpts == null) {
            return m;
        }
        for (String o : schedOpts) {
            if (!userClass) {
                throw usage("--sched-opt " + o + ": only for --scheduler class:NAME (the " + scheduler
                        + " scheduler has its own options, see scx-emu list)");
            }
            int eq = o.indexOf('=');
            if (eq <= 0 || !o.substring(0, eq).matches("[A-Za-z0-9_.-]{1,64}")) {
                throw usage("--sched-opt " + o + ": must be KEY=VALUE with KEY of A-Z a-z 0-9 _ . - (1-64)");
            }
            m.put(o.substring(0, eq), o.substring(eq + 1));
        }
        return m;
    }

    private static void putIfGiven(Map<String, Object> g, String name, Object v) {
        if (v != null) {
            g.put(name, v);
        }
    }

    void checkRange(String option, long v, long lo, long hi) {
        if (v < lo || v > hi) {
            throw usage(option + " " + v + ": out of range, must be " + lo + ".." + hi);
        }
    }

    /** A fresh instance of the --workload (a workload keeps its run's counts); a bad one is a usage error. */
    Workload createWorkload() {
        if (workload.startsWith(WorkloadFile.PREFIX)) {
            String file = workload.substring(WorkloadFile.PREFIX.length());
            if (file.isEmpty()) {
                throw usage("--workload " + workload + ": no file name after 'file:'");
            }
            try {
                return WorkloadFile.load(workload, Path.of(file), cpus);
            } catch (WorkloadFile.BadWorkloadFile e) {
                throw usage("--workload " + workload + ": " + e.getMessage());
            } catch (java.nio.file.InvalidPathException e) {
                throw usage("--workload " + workload + ": bad file name: " + e.getMessage());
            }
        }
        Workload w = Workloads.create(workload);
        if (w == null) {
            throw usage("--workload " + workload + ": unknown workload; valid: "
                    + String.join(", ", Workloads.names()) + ", or file:PATH");
        }
        return w;
    }

    /** Every check that can fail before anything runs; each failure is one line and exit 2. */
    Schedulers.Entry validate() {
        boolean bpf = scheduler.startsWith(Schedulers.BPF_PREFIX);
        boolean userClass = scheduler.startsWith(Schedulers.CLASS_PREFIX) || bpf;
        Schedulers.Entry entry = userClass ? null : Schedulers.byName(scheduler);
        if (!bpfSets.isEmpty() && !bpf) {
            throw usage("--bpf-set: only for --scheduler bpf:FILE");
        }
        if (entry == null && !userClass) {
            throw usage("--scheduler " + scheduler + ": unknown scheduler; valid: " + Schedulers.names()
                    + ", or class:NAME with --classpath JAR");
        }
        if (classpath != null && (!userClass || bpf)) {
            throw usage("--classpath " + classpath + ": only for --scheduler class:NAME");
        }
        checkRange("--cpus", cpus, CPUS_MIN, Kernel.NR_CPUS_MAX);
        theWorkload = createWorkload();
        if (KernelProfile.byId(kernel) == null) {
            throw usage("--kernel " + kernel + ": unknown kernel profile; valid: "
                    + String.join(", ", KernelProfile.ids()));
        }
        checkRange("--tick-hz", tickHz, TICK_HZ_MIN, TICK_HZ_MAX);
        Map<String, Object> given = givenSchedulerOptions();
        for (String opt : given.keySet()) {
            if (userClass) {
                throw usage(opt + ": a user scheduler (" + scheduler + ") has no such option" + ownerHint(opt));
            }
            if (!entry.options().contains(opt)) {
                throw usage(opt + ": the " + entry.name() + " scheduler has no such option" + ownerHint(opt));
            }
        }
        if (sliceUs != null) {
            checkRange("--slice-us", sliceUs, 1, SLICE_US_MAX);
        }
        if (timeoutMs != null) {
            checkRange("--timeout-ms", timeoutMs, 1, TIMEOUT_MS_MAX);
        }
        if (dspBatch != null) {
            checkRange("--dsp-batch", dspBatch, 0, DSP_BATCH_MAX);
        }
        if (centralCpu != null) {
            checkRange("--central-cpu", centralCpu, 0, cpus - 1);
        }
        if ("pair".equals(entry == null ? null : entry.name()) && stride == null
                && (cpus < 2 || !ScxPair.validStride(cpus, cpus / 2))) {
            throw usage("--cpus " + cpus + ": the pair scheduler needs an even number of CPUs, at least 2 (or a"
                    + " --stride that pairs them up)");
        }
        if (stride != null) {
            checkRange("--stride", stride, 1, cpus - 1);
            if (!ScxPair.validStride(cpus, stride)) {
                throw usage("--stride " + stride + ": does not pair up " + cpus + " CPUs (CPU i pairs with"
                        + " (i + stride) % cpus, each CPU exactly once)");
            }
        }
        checkNonNegative("--stall-user-nth", stallUserNth);
        checkNonNegative("--stall-kernel-nth", stallKernelNth);
        checkNonNegative("--error-after", errorAfter);
        checkNonNegative("--dsp-inf-loop-after", dspInfLoopAfter);
        validateControlled();
        checkOutput("--json", json);
        checkOutput("--trace", trace);
        if (json != null && trace != null && (Json.isStdout(json) ? Json.isStdout(trace) : !Json.isStdout(trace)
                && json.toAbsolutePath().normalize().equals(trace.toAbsolutePath().normalize()))) {
            throw usage("--json and --trace name the same file: " + json);
        }
        Map<String, String> opts = parseSchedOpts(userClass);
        if (userClass) {
            try {
                entry = bpf ? Schedulers.bpfObject(scheduler, bpfSets, kernel, cpus, seed)
                        : Schedulers.userClass(scheduler, classpath, opts);
            } catch (Schedulers.LoadException e) {
                throw usage(e.getMessage());
            }
        }
        return entry;
    }

    /** --controlled and its options: each needs what it refines. */
    private void validateControlled() {
        if (!controlled) {
            for (Object[] o : new Object[][] {{"--strategy", strategy}, {"--pct-depth", pctDepth},
                {"--max-steps", maxSteps}}) {
                if (o[1] != null) {
                    throw usage(o[0] + ": only with --controlled");
                }
            }
            return;
        }
        if (strategy != null && !Strategy.valid(strategy)) {
            throw usage("--strategy " + strategy + ": unknown strategy; valid: " + Strategy.RANDOM + ", "
                    + Strategy.PCT);
        }
        if (pctDepth != null) {
            if (!Strategy.PCT.equals(strategy)) {
                throw usage("--pct-depth: only with --strategy pct");
            }
            checkRange("--pct-depth", pctDepth, 1, PCT_DEPTH_MAX);
        }
        if (maxSteps != null) {
            checkRange("--max-steps", maxSteps, 1, Long.MAX_VALUE);
        }
        if (theWorkload.name().equals("pair")) {
            throw usage("--workload pair: its observer thread runs free, so it cannot run --controlled");
        }
    }

    /** The controlled run's spec, from the options (validated). */
    ControlledSpec controlledSpec(boolean tracing) {
        ControlledSpec cs = ControlledSpec.of(seed, strategy == null ? Strategy.RANDOM : strategy);
        if (pctDepth != null) {
            cs = cs.withPctDepth(pctDepth);
        }
        if (maxSteps != null) {
            cs = cs.withMaxSteps(maxSteps);
        }
        return tracing ? cs.withLogCapacity(TRACE_MAX_HANDOVERS) : cs;
    }

    private void checkOutput(String option, Path path) {
        if (path != null) {
            try {
                Json.checkWritable(path);
            } catch (IOException | RuntimeException e) {
                throw usage(option + " " + path + ": cannot write: " + e.getMessage());
            }
        }
    }

    private void checkNonNegative(String option, Long v) {
        if (v != null && v < 0) {
            throw usage(option + " " + v + ": must not be negative");
        }
    }

    private static String ownerHint(String opt) {
        StringBuilder owners = new StringBuilder();
        for (Schedulers.Entry e : Schedulers.ALL) {
            if (e.options().contains(opt)) {
                owners.append(owners.length() == 0 ? "" : ", ").append(e.name());
            }
        }
        return owners.length() == 0 ? "" : " (it belongs to: " + owners + ")";
    }

    @Override
    public Integer call() {
        Schedulers.Entry entry = validate();
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = humanOut(stdout, err);
        UserFaults.clearLateFault();

        Map<String, Object> applied = Schedulers.newApplied();
        SchedExtOps ops = entry.factory().create(givenSchedulerOptions(), applied, cpus);
        Workload w = theWorkload;
        RunSpec rs = new RunSpec(entry.name(), applied, w.name(), cpus, 1_000_000_000L / tickHz, durationNs, seed,
                KernelProfile.byId(kernel));
        ControlledSpec cs = controlled ? controlledSpec(trace != null) : null;
        // from here a cut-short run leaves a JSON saying so (the progress line is added when it exists)
        CutShort.Run cutRun = new CutShort.Run(json, cutShortFacts(rs), null, System.nanoTime());
        CutShort.running(cutRun);
        out.printf("scx-emu: %s on %d CPUs, workload %s, kernel %s, seed %d, %s%s%n", entry.name(), cpus, w.name(),
                rs.kernelProfile().id, seed, SummaryTable.seconds(durationNs),
                cs == null ? "" : ", controlled (" + cs.strategy() + (Strategy.PCT.equals(cs.strategy())
                        ? ", depth " + cs.pctDepth() : "") + "), simulated time");
        out.flush();

        TraceRecorder recorder = trace == null ? null : new TraceRecorder(cpus, TRACE_MAX_EVENTS);
        Progress progress = Progress.wanted(Main.terminal, noProgress, durationNs) ? new Progress(out, durationNs)
                : null;
        Runner.Listener listener = (second, elapsedNs, k, o, coreLine) -> {
            if (progress != null) {
                progress.clear();
            }
            String line = o.statsLine();
            if (line != null && !line.isEmpty()) {
                out.println(line.endsWith("\n") ? line.substring(0, line.length() - 1) : line);
            }
            out.println(coreLine);
            if (progress != null) {
                progress.show(elapsedNs);
            }
            out.flush();
        };
        Tracer tracer = recorder == null ? Tracer.NONE : recorder;
        if (progress != null) {
            CutShort.running(new CutShort.Run(json, cutRun.facts(), progress, cutRun.startNs()));
        }
        Runner.ControlledRun cr;
        RunResult r;
        try {
            cr = cs == null ? null : Runner.runControlled(rs, cs, ops, w, listener, tracer);
            r = cr != null ? cr.result() : Runner.run(rs, ops, w, listener, tracer);
        } finally {
            if (progress != null) {
                progress.clear();
            }
        }

        if (r.loadRet < 0) {
            err.println(Main.PREFIX + "failed to load scheduler " + entry.name() + ": error " + r.loadRet
                    + errnoName(-r.loadRet));
            printDmesg(err, r.dmesg);
            return Main.EXIT_EJECTED;
        }
        if (r.bug != null) {
            err.println(Main.PREFIX + "internal error: kernel BUG: " + Main.oneLine(r.bug));
            printReplay(err, cr);
            return Main.EXIT_INTERNAL;
        }
        SummaryTable.print(out, r);
        out.flush();
        // both outputs are built first and written together: either both files appear or neither
        Map<Path, String> outputs = new LinkedHashMap<>();
        if (json != null) {
            Map<String, Object> j = r.toJson();
            if (cr != null) {
                j.put("controlled", controlledJson(cr));
            }
            outputs.put(json, Json.write(j));
        }
        if (recorder != null) {
            Map<String, Object> facts = new LinkedHashMap<>();
            facts.put("scheduler", entry.name());
            facts.put("workload", w.name());
            facts.put("cpus", (long) cpus);
            facts.put("kernel_profile", rs.kernelProfile().id);
            facts.put("seed", seed);
            facts.put("exit_kind", r.exitKindName);
            facts.put("exit_code", r.exitCode);
            facts.put("exit_reason", r.exitReason);
            Map<String, Object> t = recorder.toTraceJson(r.startNs, r.endNs, facts);
            if (cr != null) {
                HandOverTrace.addTo(t, cr.controller(), r.startNs, controlledJson(cr));
            }
            outputs.put(trace, Json.write(t));
        }
        boolean written = writeOutputs(outputs, stdout, err);
        CutShort.done();
        if (!r.unloadedNormally()) {
            printEjection(err, entry.name(), r);
            printReplay(err, cr);
            return Main.EXIT_EJECTED;
        }
        if (UserFaults.lateFault() != null) {
            err.println(Main.PREFIX + entry.name() + ": after it was unloaded, " + UserFaults.lateFault());
            return Main.EXIT_EJECTED;
        }
        return written ? Main.EXIT_OK : Main.EXIT_IO;
    }

    /** What a cut-short run's JSON says: the run's identity, known before it started. */
    static Map<String, Object> cutShortFacts(RunSpec rs) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("scheduler", rs.scheduler());
        f.put("workload", rs.workload());
        f.put("cpus", (long) rs.cpus());
        f.put("kernel_profile", rs.kernelProfile().id);
        f.put("seed", rs.seed());
        f.put("requested_duration_ns", rs.durationNs());
        return f;
    }

    /** Where the human-readable output goes: standard error when --json or --trace is standard output. */
    PrintWriter humanOut(PrintWriter stdout, PrintWriter err) {
        return Json.isStdout(json) || Json.isStdout(trace) ? err : stdout;
    }

    /**
     * Writes the outputs (standard output for {@code -}, the rest together, see
     * {@link Json#writeAllAtomically}); returns false after one {@code scx-emu:} line if they
     * could not be written. The run has happened by then: the caller keeps its status if it is
     * not 0, else exits {@link Main#EXIT_IO}.
     */
    static boolean writeOutputs(Map<Path, String> outputs, PrintWriter stdout, PrintWriter err) {
        Map<Path, String> files = new LinkedHashMap<>();
        for (Map.Entry<Path, String> e : outputs.entrySet()) {
            if (Json.isStdout(e.getKey())) {
                stdout.print(e.getValue());
                stdout.flush();
            } else {
                files.put(e.getKey(), e.getValue());
            }
        }
        if (files.isEmpty()) {
            return true;
        }
        try {
            Json.writeAllAtomically(files);
            return true;
        } catch (IOException | RuntimeException e) {
            err.println(Main.PREFIX + "cannot write " + String.join(" and ", files.keySet().stream().map(Path::toString)
                    .toArray(String[]::new)) + ": " + Main.oneLine(e.toString()) + " (the run itself completed)");
            return false;
        }
    }

    private static Map<String, Object> controlledJson(Runner.ControlledRun cr) {
        Controller.Stop s = cr.stoppedBy();
        return cr.controller().toJson(s == null ? "duration" : s == Controller.Stop.CONDITION ? "exit" : s.jsonName());
    }

    /** A controlled run that ended badly: where it did, so it can be replayed, and how it got there. */
    private static void printReplay(PrintWriter err, Runner.ControlledRun cr) {
        if (cr == null) {
            return;
        }
        Controller c = cr.controller();
        err.println(Main.PREFIX + "controlled run: seed " + c.spec().seed() + ", step " + cr.endStep()
                + (cr.exitStep() >= 0 ? " (the exit was seen at step " + cr.exitStep() + ")" : "") + ", strategy "
                + c.spec().strategy() + "; rerun with the same seed to replay it, --trace to see every hand-over");
        for (String line : c.log().lastLines(LAST_HANDOVERS_SHOWN)) {
            err.println("[handover] " + line);
        }
        err.flush();
    }

    /** What the scheduler's user-space half prints when the kernel ejects it (UEI_REPORT()). */
    static void printEjection(PrintWriter err, String name, RunResult r) {
        err.println(Main.PREFIX + name + " was ejected: SCX_EXIT_" + r.exitKindName + " (" + r.exitReason
                + "), exit_code=" + r.exitCode);
        if (!r.exitDump.isEmpty()) {
            err.println("DEBUG DUMP");
            err.println("=".repeat(80));
            err.println();
            err.print(r.exitDump.endsWith("\n") ? r.exitDump : r.exitDump + "\n");
            err.println("=".repeat(80));
            err.println();
        }
        err.println("EXIT: " + r.exitReason + (r.exitMsg.isEmpty() ? "" : " (" + r.exitMsg + ")"));
        printDmesg(err, r.dmesg);
        err.flush();
    }

    static void printDmesg(PrintWriter err, List<String> dmesg) {
        for (String line : dmesg) {
            err.println("[dmesg] " + line);
        }
    }

    private static String errnoName(int errno) {
        switch (errno) {
            case 1:
                return " (EPERM)";
            case 2:
                return " (ENOENT)";
            case 7:
                return " (E2BIG)";
            case 12:
                return " (ENOMEM)";
            case 16:
                return " (EBUSY)";
            case 17:
                return " (EEXIST)";
            case 22:
                return " (EINVAL)";
            case 95:
                return " (EOPNOTSUPP)";
            default:
                return "";
        }
    }
}
