// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.scxemu.harness.workload.Workload;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.OpWatch;
import org.scxemu.kernel.Rq;
import org.scxemu.kernel.ScxOp;
import org.scxemu.scx.SchedExtOps;

/**
 * What a run produced, read from the machine after its CPU threads were joined and the scheduler
 * unloaded: the exit, the op and kfunc counts, per-CPU figures, the merged latency histograms,
 * the scheduler's and the workload's own counters. Immutable once built; {@link #toJson} gives
 * the JSON summary of the design ("Contracts the rest of the project relies on").
 */
public final class RunResult {
    /** One CPU's figures (the JSON's {@code per_cpu} entries). */
    public record CpuSummary(int cpu, long releaseWindows, boolean cpuReleased, long pntSeq, long nrSwitches,
            long busyNs) {
        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cpu", (long) cpu);
            m.put("release_windows", releaseWindows);
            m.put("cpu_released", cpuReleased);
            m.put("pnt_seq", pntSeq);
            m.put("nr_switches", nrSwitches);
            m.put("busy_ns", busyNs);
            return m;
        }
    }

    public final RunSpec spec;
    /** 0, or the negative errno the load returned (then nothing else is filled in). */
    public final int loadRet;
    /** The kernel log (pr_info/pr_err lines), for a failed load or an ejection. */
    public final List<String> dmesg;
    public final String scheduler;
    public final long durationNs;
    /** SCX_EXIT_* of the exit, and its JSON name (UNREG, ERROR_STALL, ...). */
    public final int exitKind;
    public final String exitKindName;
    public final long exitCode;
    public final String exitReason;
    public final String exitMsg;
    public final String exitDump;
    /** Calls per op, indexed by {@link ScxOp#ordinal()}; per kfunc by {@link Kfunc#ordinal()}. */
    public final long[] opCalls;
    public final long[] kfuncCalls;
    public final long reenqueuedTasks;
    public final List<CpuSummary> perCpu;
    public final LatencySummary wait;
    public final LatencySummary stranded;
    public final Map<String, Long> schedulerStats;
    public final String schedulerStatsLine;
    public final String workloadName;
    public final Map<String, Object> workloadMetrics;
    /** An emulator inconsistency (a kernel BUG) seen during the run, or null. */
    public final Throwable bug;
    /** The run's start (the workload's start) and end on the kernel clock ({@link Kernel#now}). */
    public final long startNs;
    public final long endNs;
    /**
     * Sections a mode adds to the JSON summary ({@code stress}: {@code invariants}, {@code chaos},
     * {@code violation}); filled in by the runner that built this result before it returns it, on
     * that runner's thread, then read-only.
     */
    private final Map<String, Object> sections = new LinkedHashMap<>();

    private RunResult(RunSpec spec, int loadRet, List<String> dmesg, String scheduler, long durationNs, int exitKind,
            String exitKindName, long exitCode, String exitReason, String exitMsg, String exitDump, long[] opCalls,
            long[] kfuncCalls, long reenqueuedTasks, List<CpuSummary> perCpu, LatencySummary wait,
            LatencySummary stranded, Map<String, Long> schedulerStats, String schedulerStatsLine, String workloadName,
            Map<String, Object> workloadMetrics, Throwable bug, long startNs, long endNs) {
        this.spec = spec;
        this.loadRet = loadRet;
        this.dmesg = dmesg;
        this.scheduler = scheduler;
        this.durationNs = durationNs;
        this.exitKind = exitKind;
        this.exitKindName = exitKindName;
        this.exitCode = exitCode;
        this.exitReason = exitReason;
        this.exitMsg = exitMsg;
        this.exitDump = exitDump;
        this.opCalls = opCalls;
        this.kfuncCalls = kfuncCalls;
        this.reenqueuedTasks = reenqueuedTasks;
        this.perCpu = perCpu;
        this.wait = wait;
        this.stranded = stranded;
        this.schedulerStats = schedulerStats;
        this.schedulerStatsLine = schedulerStatsLine;
        this.workloadName = workloadName;
        this.workloadMetrics = workloadMetrics;
        this.bug = bug;
        this.startNs = startNs;
        this.endNs = endNs;
    }

    public static RunResult loadFailed(RunSpec spec, int ret, List<String> dmesg) {
        return new RunResult(spec, ret, List.copyOf(dmesg), spec.scheduler(), 0, 0, "NONE", 0, "", "", "",
                new long[ScxOp.COUNT], new long[Kfunc.COUNT], 0, List.of(), null, null, Map.of(), "",
                spec.workload(), Map.of(), null, 0, 0);
    }

    /** Reads everything from {@code m}; its CPU threads must have been stopped and joined. */
    public static RunResult collect(RunSpec spec, Machine m, SchedExtOps ops, Workload workload, long durationNs,
            long startNs, long endNs) {
        return collect(spec, m, ops, workload, durationNs, startNs, endNs, null, null);
    }

    /**
     * As {@link #collect(RunSpec, Machine, SchedExtOps, Workload, long, long, long)}, with each
     * CPU's busy time inside the run's window ({@code busyNs}, or null for the switch-credited
     * totals) and the op the op watchdog found stuck (or null). With a stuck op the CPU threads
     * may still be running: the counters are then read racily (racy but benign: for the summary).
     */
    public static RunResult collect(RunSpec spec, Machine m, SchedExtOps ops, Workload workload, long durationNs,
            long startNs, long endNs, long[] busyNs, OpWatch.Stuck stuck) {
        Kernel k = m.kernel();
        ExitInfo ei = m.ext().exitInfo();
        List<CpuSummary> perCpu = new ArrayList<>();
        Histogram wait = new Histogram(3_600_000_000_000L, 3);
        Histogram stranded = new Histogram(3_600_000_000_000L, 3);
        for (int cpu = 0; cpu < k.nrCpus(); cpu++) {
            Rq rq = k.rq(cpu);
            perCpu.add(new CpuSummary(cpu, rq.scx.releaseWindows(), rq.scx.getCpuReleasedOpaque(),
                    rq.scx.getPntSeqAcquire(), rq.nrSwitches(), busyNs != null ? busyNs[cpu] : rq.busyNs()));
            wait.add(rq.stats().waitCopy());
            stranded.add(rq.stats().strandedCopy());
        }
        Map<String, Long> stats;
        String statsLine;
        List<String> dmesg = new ArrayList<>(m.ext().dmesg());
        Map<String, Long> st = UserCall.bounded("stats()", ops::stats, Map.of(), dmesg);
        stats = st == null ? Map.of() : new LinkedHashMap<>(st);
        statsLine = UserCall.bounded("statsLine()", ops::statsLine, "", dmesg);
        String name = UserCall.bounded("name()", ops::name, spec.scheduler(), dmesg);
        String dump = ei.dump();
        if (dump.isEmpty() && stuck != null) {
            dump = stuck.dumpText();
        }
        return new RunResult(spec, 0, dmesg, name, durationNs, ei.kind(), ei.kindName(),
                ei.exitCode(), ei.reason(), ei.msg(), dump, k.opCalls(), k.kfuncCalls(), k.reenqueuedTasks(),
                Collections.unmodifiableList(perCpu), LatencySummary.of(wait), LatencySummary.of(stranded),
                Collections.unmodifiableMap(stats), statsLine == null ? "" : statsLine, workload.name(),
                workload.report(), k.bug(), startNs, endNs);
    }

    /** SCX_EXIT_UNREG: the scheduler ran to the end and was unloaded normally. */
    public boolean unloadedNormally() {
        return loadRet == 0 && exitKind == 64;
    }

    /** The JSON summary as a tree of maps and lists, for {@link Json#write}. */
    public Map<String, Object> toJson() {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("scheduler", spec.scheduler());
        j.put("scheduler_name", scheduler);
        j.put("scheduler_options", spec.schedulerOptions());
        j.put("workload", workloadName);
        j.put("cpus", (long) spec.cpus());
        j.put("kernel_profile", spec.kernelProfile().id);
        j.put("seed", spec.seed());
        j.put("tick_ns", spec.tickNs());
        j.put("requested_duration_ns", spec.durationNs());
        j.put("duration_ns", durationNs);

        Map<String, Object> exit = new LinkedHashMap<>();
        exit.put("kind", exitKindName);
        exit.put("exit_code", exitCode);
        exit.put("reason", exitReason);
        exit.put("msg", exitMsg);
        exit.put("dump", exitDump);
        j.put("exit", exit);

        Map<String, Object> opsJson = new LinkedHashMap<>();
        for (ScxOp op : ScxOp.values()) {
            opsJson.put(op.kname, opCalls[op.ordinal()]);
        }
        j.put("ops_calls", opsJson);
        Map<String, Object> kfJson = new LinkedHashMap<>();
        for (Kfunc kf : Kfunc.values()) {
            kfJson.put(kf.kname, kfuncCalls[kf.ordinal()]);
        }
        j.put("kfunc_calls", kfJson);
        j.put("reenqueued_tasks", reenqueuedTasks);

        List<Object> cpus = new ArrayList<>();
        for (CpuSummary c : perCpu) {
            cpus.add(c.toJson());
        }
        j.put("per_cpu", cpus);

        Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("wait", wait == null ? LatencySummary.of(new Histogram(1000, 1)).toJson() : wait.toJson());
        lat.put("stranded", stranded == null ? LatencySummary.of(new Histogram(1000, 1)).toJson() : stranded.toJson());
        j.put("latency_ns", lat);

        j.put("scheduler_stats", new LinkedHashMap<String, Object>(schedulerStats));
        j.put("workload_metrics", workloadMetrics);

        // A plain run checks no invariants; `stress` replaces this section with its counts.
        Map<String, Object> inv = new LinkedHashMap<>();
        inv.put("checked", 0L);
        inv.put("violations", 0L);
        j.put("invariants", inv);
        j.putAll(sections);
        return j;
    }

    /** Adds (or replaces) a JSON section; for the runner that builds this result. */
    public void putSection(String name, Object json) {
        sections.put(name, json);
    }

    /** A section added with {@link #putSection}, or null. */
    public Object section(String name) {
        return sections.get(name);
    }
}
