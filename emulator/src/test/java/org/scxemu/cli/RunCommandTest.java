// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scxemu.harness.TinyJson;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.ScxOp;

/**
 * {@code scx-emu run} end to end, in-process: real schedulers on real CPU threads. Each run is a
 * couple of seconds of host time; the machine running the tests has two cores, so assertions are
 * about what must happen, never about how fast.
 */
class RunCommandTest {
    @TempDir
    Path dir;

    private Object runJson(Path json, String... args) throws IOException {
        String[] full = Stream.concat(Stream.of(args), Stream.of("--json", json.toString())).toArray(String[]::new);
        CliRunner.Result r = CliRunner.run(full);
        assertEquals(0, r.code(), r.describe());
        assertEquals("", r.err(), r.describe());
        return TinyJson.parse(Files.readString(json, StandardCharsets.UTF_8));
    }

    /** The default scenario exits 0 and its JSON has the design's fields. */
    @Test
    void simpleRunExitsZeroAndWritesTheDesignsJson() throws IOException {
        Path json = dir.resolve("out.json");
        CliRunner.Result r = CliRunner.run("run", "--scheduler", "simple", "--cpus", "4", "--duration", "2s", "--json",
                json.toString());
        assertEquals(0, r.code(), r.describe());
        assertEquals("", r.err(), r.describe());
        assertTrue(r.out().contains("summary: simple on 4 CPUs"), r.describe());
        assertTrue(r.out().contains("core   : sw="), "the once-a-second core line: " + r.describe());
        assertTrue(r.out().contains("local=") && r.out().contains("global="), "scx_simple's stats line: "
                + r.describe());

        Object j = TinyJson.parse(Files.readString(json, StandardCharsets.UTF_8));
        assertEquals("simple", TinyJson.at(j, "scheduler"));
        assertEquals(4L, TinyJson.at(j, "cpus"));
        assertEquals("v7", TinyJson.at(j, "kernel_profile"));
        assertEquals(1L, TinyJson.at(j, "seed"));
        assertTrue(TinyJson.num(j, "duration_ns") >= 2_000_000_000L);
        assertEquals("UNREG", TinyJson.at(j, "exit.kind"));
        assertEquals(0L, TinyJson.at(j, "exit.exit_code"));
        assertEquals("unregistered from user space", TinyJson.at(j, "exit.reason"));
        assertInstanceOf(String.class, TinyJson.at(j, "exit.msg"));
        for (ScxOp op : ScxOp.values()) {
            assertTrue(TinyJson.num(j, "ops_calls." + op.kname) >= 0);
        }
        for (Kfunc kf : Kfunc.values()) {
            assertTrue(TinyJson.num(j, "kfunc_calls." + kf.kname) >= 0);
        }
        assertTrue(TinyJson.num(j, "ops_calls.enqueue") > 0, "ops_calls.enqueue");
        assertTrue(TinyJson.num(j, "kfunc_calls.dispatch") > 0, "kfunc_calls.dispatch");
        assertEquals(0L, TinyJson.num(j, "ops_calls.cpu_release"), "scx_simple has no cpu_release");
        assertEquals(0L, TinyJson.num(j, "reenqueued_tasks"));
        List<?> perCpu = (List<?>) TinyJson.at(j, "per_cpu");
        assertEquals(4, perCpu.size());
        for (int cpu = 0; cpu < 4; cpu++) {
            assertEquals((long) cpu, TinyJson.num(j, "per_cpu." + cpu + ".cpu"));
            assertEquals(0L, TinyJson.num(j, "per_cpu." + cpu + ".release_windows"));
            assertEquals(Boolean.FALSE, TinyJson.at(j, "per_cpu." + cpu + ".cpu_released"));
            assertTrue(TinyJson.num(j, "per_cpu." + cpu + ".pnt_seq") > 0, "every CPU picked");
            assertTrue(TinyJson.num(j, "per_cpu." + cpu + ".nr_switches") > 0);
            assertTrue(TinyJson.num(j, "per_cpu." + cpu + ".busy_ns") > 0);
        }
        for (String h : new String[] {"wait", "stranded"}) {
            long p50 = TinyJson.num(j, "latency_ns." + h + ".p50");
            long p99 = TinyJson.num(j, "latency_ns." + h + ".p99");
            long p999 = TinyJson.num(j, "latency_ns." + h + ".p999");
            long max = TinyJson.num(j, "latency_ns." + h + ".max");
            assertTrue(TinyJson.num(j, "latency_ns." + h + ".count") >= 0);
            assertTrue(p50 <= p99 && p99 <= p999 && p999 <= max, h + " percentiles ordered");
        }
        assertTrue(TinyJson.num(j, "latency_ns.wait.count") > 0);
        assertEquals(0L, TinyJson.num(j, "latency_ns.stranded.count"), "no higher class ran");
        assertInstanceOf(Map.class, TinyJson.at(j, "scheduler_stats"));
        assertEquals(0L, TinyJson.num(j, "invariants.checked"));
        assertEquals(0L, TinyJson.num(j, "invariants.violations"));
        assertEquals(8L, TinyJson.num(j, "workload_metrics.tasks"), "cpu-bound: 2 tasks per CPU");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(json), files.toList(), "no temporary file left behind");
        }
    }

    /**
     * The seed's feature, as the kernel does it: qmap's cpu_release fires on the CPUs the RT
     * tasks take, re-enqueues their local DSQs, and each release window is closed by balance_scx()
     * (release_windows). qmap implements no ops.cpu_acquire, so the kernel never calls it: the op
     * count stays 0 while the windows still close.
     */
    @Test
    void qmapRtPreemptReleasesAndReenqueues() throws IOException {
        Object j = runJson(dir.resolve("q.json"), "run", "--scheduler", "qmap", "--workload", "rt-preempt",
                "--cpus", "4", "--duration", "2s");
        long releases = TinyJson.num(j, "ops_calls.cpu_release");
        assertTrue(releases > 0, "cpu_release > 0");
        assertEquals(0L, TinyJson.num(j, "ops_calls.cpu_acquire"), "qmap has no cpu_acquire: never called");
        assertTrue(TinyJson.num(j, "reenqueued_tasks") > 0, "reenqueued_tasks > 0");
        assertEquals(releases, TinyJson.num(j, "kfunc_calls.reenqueue_local"), "qmap reenqueues on every release");
        long windows = 0;
        long stillReleased = 0;
        for (int cpu = 0; cpu < 4; cpu++) {
            windows += TinyJson.num(j, "per_cpu." + cpu + ".release_windows");
            stillReleased += TinyJson.at(j, "per_cpu." + cpu + ".cpu_released") == Boolean.TRUE ? 1 : 0;
        }
        assertTrue(windows > 0, "release windows closed by balance_scx()");
        // Each window opens with one cpu_release and closes in balance_scx(); at the end at most one
        // per CPU is still open, and exactly those CPUs still have cpu_released set.
        assertEquals(releases, windows + stillReleased, "one cpu_release per window");
        List<?> rtCpus = (List<?>) TinyJson.at(j, "workload_metrics.rt_cpus");
        for (Object cpu : rtCpus) {
            assertTrue(TinyJson.num(j, "per_cpu." + cpu + ".release_windows") > 0, "RT CPU " + cpu + " released");
        }
        assertTrue(TinyJson.num(j, "workload_metrics.rt_bursts") > 0);
        assertTrue(TinyJson.num(j, "latency_ns.stranded.count") > 0, "tasks were stranded, however briefly");
        assertEquals(Boolean.TRUE, TinyJson.at(j, "scheduler_options.cpu_release"));
    }

    /** The same run without the feature: the op is absent, so nothing is released or re-enqueued. */
    @Test
    void qmapWithoutCpuReleaseNeverReleases() throws IOException {
        Object j = runJson(dir.resolve("n.json"), "run", "--scheduler", "qmap", "--workload", "rt-preempt",
                "--cpus", "4", "--duration", "2s", "--no-cpu-release");
        assertEquals(0L, TinyJson.num(j, "ops_calls.cpu_release"));
        assertEquals(0L, TinyJson.num(j, "ops_calls.cpu_acquire"));
        assertEquals(0L, TinyJson.num(j, "reenqueued_tasks"));
        assertEquals(0L, TinyJson.num(j, "kfunc_calls.reenqueue_local"));
        for (int cpu = 0; cpu < 4; cpu++) {
            // scx_ops_cpu_preempt is off: cpu_released is never set, so no window is counted
            assertEquals(0L, TinyJson.num(j, "per_cpu." + cpu + ".release_windows"));
        }
        assertTrue(TinyJson.num(j, "workload_metrics.rt_bursts") > 0, "the RT tasks still ran");
        assertTrue(TinyJson.num(j, "latency_ns.stranded.count") > 0, "preempted tasks sat on local DSQs");
        assertEquals(Boolean.FALSE, TinyJson.at(j, "scheduler_options.cpu_release"));
    }

    /**
     * The trace: a qmap rt-preempt run gives valid JSON trace events, one track per CPU with
     * the tasks that ran there, cpu_release events on the CPUs the higher classes took (RT ones
     * with SCX_CPU_PREEMPT_RT), per-task wait slices, and the exit.
     */
    @Test
    @SuppressWarnings("unchecked")
    void qmapRtPreemptTraceHasATrackPerCpuAndTheReleases() throws IOException {
        Path json = dir.resolve("t-summary.json");
        Path trace = dir.resolve("t.trace.json");
        CliRunner.Result r = CliRunner.run("run", "--scheduler", "qmap", "--workload", "rt-preempt", "--cpus", "4",
                "--duration", "2s", "--json", json.toString(), "--trace", trace.toString());
        assertEquals(0, r.code(), r.describe());
        Object j = TinyJson.parse(Files.readString(json, StandardCharsets.UTF_8));
        Object t = TinyJson.parse(Files.readString(trace, StandardCharsets.UTF_8));
        assertEquals(0L, TinyJson.num(t, "otherData.dropped_events"));
        List<Map<String, Object>> events = (List<Map<String, Object>>) TinyJson.at(t, "traceEvents");

        Set<Long> rtCpus = new HashSet<>();
        for (Object c : (List<?>) TinyJson.at(j, "workload_metrics.rt_cpus")) {
            rtCpus.add((Long) c);
        }
        Set<Long> higherClassCpus = new HashSet<>(rtCpus);
        higherClassCpus.add(TinyJson.num(j, "workload_metrics.dl_cpu"));
        higherClassCpus.add(TinyJson.num(j, "workload_metrics.stop_cpu"));

        Map<Long, Integer> cpuTracks = new HashMap<>();
        Map<Long, Double> cpuSliceEnd = new HashMap<>();
        Map<Long, Integer> releasesPerCpu = new HashMap<>();
        long releases = 0;
        long waits = 0;
        long exits = 0;
        for (Map<String, Object> e : events) {
            String ph = (String) e.get("ph");
            assertTrue(e.get("name") instanceof String && e.get("pid") instanceof Long, e.toString());
            if (!"M".equals(ph)) {
                assertTrue(e.get("ts") instanceof Number, e.toString());
            }
            long pid = (Long) e.get("pid");
            if ("M".equals(ph) && "thread_name".equals(e.get("name")) && pid == 0) {
                cpuTracks.merge((Long) e.get("tid"), 1, Integer::sum);
                assertEquals("cpu-" + e.get("tid"), TinyJson.at(e, "args.name"));
            } else if ("X".equals(ph) && pid == 0) {
                long cpu = (Long) e.get("tid");
                double ts = ((Number) e.get("ts")).doubleValue();
                double dur = ((Number) e.get("dur")).doubleValue();
                assertTrue(dur >= 0, e.toString());
                assertTrue(ts + 0.01 >= cpuSliceEnd.getOrDefault(cpu, -1e18), "slices on a CPU do not overlap: " + e);
                cpuSliceEnd.put(cpu, ts + dur);
            } else if ("X".equals(ph) && pid == 1) {
                assertEquals("wait", e.get("name"));
                waits++;
            } else if ("cpu_release".equals(e.get("name"))) {
                long cpu = (Long) e.get("tid");
                assertTrue(higherClassCpus.contains(cpu), "cpu_release on CPU " + cpu + ", which no higher class uses");
                if (rtCpus.contains(cpu) && cpu != TinyJson.num(j, "workload_metrics.dl_cpu")
                        && cpu != TinyJson.num(j, "workload_metrics.stop_cpu")) {
                    assertEquals("SCX_CPU_PREEMPT_RT", TinyJson.at(e, "args.reason"), e.toString());
                }
                releasesPerCpu.merge(cpu, 1, Integer::sum);
                releases++;
            } else if ("scx_exit".equals(e.get("name"))) {
                assertEquals("UNREG", TinyJson.at(e, "args.kind"));
                exits++;
            }
        }
        for (long cpu = 0; cpu < 4; cpu++) {
            assertEquals(1, cpuTracks.getOrDefault(cpu, 0), "one track for CPU " + cpu);
            assertTrue(cpuSliceEnd.containsKey(cpu), "tasks ran on CPU " + cpu);
        }
        assertEquals(4, cpuTracks.size());
        for (long cpu : rtCpus) {
            assertTrue(releasesPerCpu.getOrDefault(cpu, 0) > 0, "cpu_release on RT CPU " + cpu);
        }
        assertEquals(TinyJson.num(j, "ops_calls.cpu_release"), releases, "every cpu_release is in the trace");
        assertTrue(waits > 0, "per-task wait slices");
        assertEquals(1, exits, "the exit is in the trace");
    }

    /**
     * An ejection: exit 1, the exit and the kernel-format dump on stderr, and both the JSON and the
     * trace record it.
     */
    @Test
    @SuppressWarnings("unchecked")
    void stalledQmapIsEjectedWithTheDump() throws IOException {
        Path json = dir.resolve("stall.json");
        Path trace = dir.resolve("stall.trace.json");
        CliRunner.Result r = CliRunner.run("run", "--scheduler", "qmap", "--stall-user-nth", "1", "--timeout-ms", "500",
                "--duration", "10s", "--json", json.toString(), "--trace", trace.toString());
        assertEquals(1, r.code(), r.describe());
        assertTrue(r.err().contains("SCX_EXIT_ERROR_STALL"), r.describe());
        assertTrue(r.err().contains("runnable task stall"), r.describe());
        assertTrue(r.err().contains("failed to run for"), r.describe());
        assertTrue(r.err().contains("CPU states"), r.describe());
        assertTrue(r.err().contains("cpu_rel="), r.describe());
        assertFalse(r.err().contains("\tat "), "no Java stack trace: " + r.describe());
        Object j = TinyJson.parse(Files.readString(json, StandardCharsets.UTF_8));
        assertEquals("ERROR_STALL", TinyJson.at(j, "exit.kind"));
        assertTrue(((String) TinyJson.at(j, "exit.msg")).contains("failed to run for"));
        assertTrue(((String) TinyJson.at(j, "exit.dump")).contains("CPU states"));
        assertTrue(TinyJson.num(j, "duration_ns") < 10_000_000_000L, "the run stopped at the ejection");
        Object t = TinyJson.parse(Files.readString(trace, StandardCharsets.UTF_8));
        assertEquals("ERROR_STALL", TinyJson.at(t, "otherData.exit_kind"));
        List<Map<String, Object>> exits = ((List<Map<String, Object>>) TinyJson.at(t, "traceEvents")).stream()
                .filter(e -> "scx_exit".equals(e.get("name"))).toList();
        assertEquals(1, exits.size(), "one scx_exit event in the trace");
        assertEquals("ERROR_STALL", TinyJson.at(exits.get(0), "args.kind"));
        assertEquals("i", exits.get(0).get("ph"));
        assertTrue(((String) TinyJson.at(exits.get(0), "args.msg")).contains("failed to run for"));
    }

    /** scx_qmap -e: scx_bpf_error() from enqueue is an ERROR_BPF ejection with the scheduler's message. */
    @Test
    void qmapErrorAfterIsEjected() {
        CliRunner.Result r = CliRunner.run("run", "--scheduler", "qmap", "--error-after", "20", "--duration", "5s");
        assertEquals(1, r.code(), r.describe());
        assertTrue(r.err().contains("SCX_EXIT_ERROR"), r.describe());
        assertTrue(r.err().contains("test triggering error"), r.describe());
    }

    @Test
    void otherWorkloadsRunUnderBothSchedulers() {
        for (String sched : new String[] {"simple", "qmap"}) {
            for (String wl : new String[] {"sleep-wake", "cpu-bound"}) {
                CliRunner.Result r = CliRunner.run("run", "--scheduler", sched, "--workload", wl, "--cpus", "2",
                        "--duration", "500ms", "--seed", "7");
                assertEquals(0, r.code(), r.describe());
                assertTrue(r.out().contains("workload " + wl), r.describe());
            }
        }
        CliRunner.Result fifo = CliRunner.run("run", "--scheduler", "simple", "--fifo", "--cpus", "1", "--duration",
                "300ms", "--tick-hz", "250");
        assertEquals(0, fifo.code(), fifo.describe());
    }

    /**
     * central and pair run from the command line, print their [SEQ n] stats blocks, and
     * pair's JSON carries the pairing-violation counter in workload_metrics.
     */
    @Test
    void centralAndPairRunAndReport() throws IOException {
        CliRunner.Result c = CliRunner.run("run", "--scheduler", "central", "--central-cpu", "1", "--slice-us",
                "5000", "--cpus", "4", "--workload", "sleep-wake", "--duration", "1500ms");
        assertEquals(0, c.code(), c.describe());
        assertTrue(c.out().contains("[SEQ 0]") && c.out().contains("timer   :") && c.out().contains("overflow:"),
                c.describe());
        Object j = runJson(dir.resolve("p.json"), "run", "--scheduler", "pair", "--workload", "pair", "--cpus", "4",
                "--duration", "1500ms");
        assertTrue(TinyJson.num(j, "workload_metrics.pairing_samples") > 0);
        assertEquals(0L, TinyJson.num(j, "workload_metrics.pairing_violations"));
        assertTrue(TinyJson.num(j, "ops_calls.cpu_release") > 0);
        assertEquals(2L, TinyJson.num(j, "scheduler_options.stride"));
        CliRunner.Result bad = CliRunner.run("run", "--scheduler", "pair", "--stride", "3", "--cpus", "4");
        assertEquals(2, bad.code(), bad.describe());
        CliRunner.Result wrongOwner = CliRunner.run("run", "--scheduler", "qmap", "--central-cpu", "1");
        assertEquals(2, wrongOwner.code(), wrongOwner.describe());
    }
}
