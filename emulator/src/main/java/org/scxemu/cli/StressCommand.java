package org.scxemu.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.scxemu.harness.Json;
import org.scxemu.harness.KernelProfile;
import org.scxemu.harness.RunResult;
import org.scxemu.harness.RunSpec;
import org.scxemu.harness.stress.ChaosConfig;
import org.scxemu.harness.stress.StressRunner;
import org.scxemu.harness.trace.TraceRecorder;
import org.scxemu.harness.workload.Workload;
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
 */
@Command(name = "stress", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a scheduler under chaos with invariant checks; exit 3 on a violation.")
final class StressCommand extends RunCommand {
    @Option(names = "--chaos", paramLabel = "SPEC", defaultValue = "all",
            description = "Injectors and weights: all (default), none, or a list such as rt=2,dl,stop,sleep,"
                    + "affinity,forkexit,kick,reload,delay (a name alone weighs 1, =0 turns it off).")
    String chaos;

    @Option(names = "--stall-limit", paramLabel = "TIME", defaultValue = "watchdog",
            description = "Liveness: the longest a runnable ext task may wait, e.g. 2s; default: what the watchdog"
                    + " allows (the scheduler's timeout plus its scan interval).")
    String stallLimit;

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
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, Object> given = givenSchedulerOptions();
        Map<String, Object> applied = Schedulers.newApplied();
        SchedExtOps first = entry.factory().create(given, applied, cpus);
        boolean[] firstUsed = new boolean[1];
        java.util.function.Supplier<SchedExtOps> factory = () -> {
            if (!firstUsed[0]) {
                firstUsed[0] = true;
                return first;
            }
            return entry.factory().create(given, Schedulers.newApplied(), cpus);
        };
        Workload w = theWorkload;
        RunSpec rs = new RunSpec(entry.name(), applied, w.name(), cpus, 1_000_000_000L / tickHz, durationNs, seed,
                KernelProfile.byId(kernel));
        out.printf("scx-emu: stress %s on %d CPUs, workload %s, kernel %s, seed %d, chaos %s, %s%n", entry.name(),
                cpus, w.name(), rs.kernelProfile().id, seed, cfg, SummaryTable.seconds(durationNs));
        out.flush();
        TraceRecorder recorder = trace == null ? null : new TraceRecorder(cpus, TRACE_MAX_EVENTS);
        StressRunner.Outcome o = StressRunner.run(rs, factory, w, cfg, stallLimitNs,
                (second, elapsedNs, k, ops, coreLine) -> {
                    String line = ops.statsLine();
                    if (line != null && !line.isEmpty()) {
                        out.println(line.endsWith("\n") ? line.substring(0, line.length() - 1) : line);
                    }
                    out.println(coreLine);
                    out.flush();
                }, recorder == null ? Tracer.NONE : recorder);
        RunResult r = o.result;
        if (r.loadRet < 0) {
            err.println(Main.PREFIX + "failed to load scheduler " + entry.name() + ": error " + r.loadRet);
            printDmesg(err, r.dmesg);
            return Main.EXIT_EJECTED;
        }
        if (r.bug != null) {
            err.println(Main.PREFIX + "internal error: kernel BUG: " + Main.oneLine(r.bug));
            return Main.EXIT_INTERNAL;
        }
        SummaryTable.print(out, r);
        out.printf("invariants: %d checks, %d violations%n", o.checked, o.violations);
        out.flush();
        Map<Path, String> outputs = new LinkedHashMap<>();
        if (json != null) {
            outputs.put(json, Json.write(r.toJson()));
        }
        if (recorder != null) {
            Map<String, Object> facts = new LinkedHashMap<>();
            facts.put("scheduler", entry.name());
            facts.put("workload", w.name());
            facts.put("cpus", (long) cpus);
            facts.put("kernel_profile", rs.kernelProfile().id);
            facts.put("seed", seed);
            facts.put("exit_kind", r.exitKindName);
            outputs.put(trace, Json.write(recorder.toTraceJson(r.startNs, r.endNs, facts)));
        }
        if (!outputs.isEmpty()) {
            try {
                Json.writeAllAtomically(outputs);
            } catch (IOException | RuntimeException e) {
                err.println(Main.PREFIX + "cannot write output: " + Main.oneLine(e.toString()));
                return Main.EXIT_USAGE;
            }
        }
        if (o.violation != null) {
            printViolation(err, rs, o);
            return Main.EXIT_VIOLATION;
        }
        if (!r.unloadedNormally()) {
            printEjection(err, entry.name(), r);
            return Main.EXIT_EJECTED;
        }
        return Main.EXIT_OK;
    }

    private static void printViolation(PrintWriter err, RunSpec rs, StressRunner.Outcome o) {
        InvariantChecker.Violation v = o.violation;
        err.println(Main.PREFIX + "invariant violated: " + v.invariant + ": " + v.message);
        err.println("  task: " + (v.task.isEmpty() ? "-" : v.task) + "  cpus: " + v.cpus + "  at: "
                + (v.atNs - o.result.startNs) + " ns into the run");
        err.println("  scheduler: " + rs.scheduler() + "  cpus: " + rs.cpus() + "  kernel: " + rs.kernelProfile().id
                + "  seed: " + rs.seed());
        err.println("  rerun: scx-emu stress --scheduler " + rs.scheduler() + " --cpus " + rs.cpus() + " --workload "
                + rs.workload() + " --kernel " + rs.kernelProfile().id + " --seed " + rs.seed());
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
