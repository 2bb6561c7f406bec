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
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.scxemu.harness.TinyJson;

/**
 * The workloads from the CLI: hackbench, schbench, mixed and a workload file each run under
 * {@code simple} and {@code qmap}, and their {@code workload_metrics} are consistent (every message
 * and request counted once, percentiles ordered); every bad workload file is one line naming the
 * line and the field, and exit 2.
 */
class WorkloadCliTest {
    @TempDir
    static Path dir;

    private static final String GOOD_FILE = String.join("\n",
            "{",
            "  \"name\": \"demo\",",
            "  \"tasks\": [",
            "    {\"name\": \"worker\", \"count\": 3, \"nice\": -5,",
            "     \"phases\": [{\"run_ns\": 2000000}, {\"sleep_ns\": 1000000}]},",
            "    {\"name\": \"short\", \"count\": 2, \"policy\": \"batch\", \"cpus\": [0, 1], \"loop\": 5,",
            "     \"phases\": [{\"run_ns\": 200000}, {\"sleep_ns\": 200000}]},",
            "    {\"name\": \"rt\", \"policy\": \"fifo\", \"cpus\": [1],",
            "     \"phases\": [{\"sleep_ns\": 5000000}, {\"run_ns\": 2000000}]}",
            "  ]",
            "}", "");

    /** The stdout of the last {@link #run}. */
    private static String lastOut;

    private static Object run(String sched, String workload, int cpus, String duration) throws IOException {
        Path json = dir.resolve(sched + "-" + workload.replaceAll("[^a-z]", "_") + ".json");
        CliRunner.Result r = CliRunner.run("run", "--scheduler", sched, "--workload", workload, "--cpus",
                String.valueOf(cpus), "--duration", duration, "--json", json.toString());
        assertEquals(0, r.code(), r.describe());
        assertEquals("", r.err(), r.describe());
        lastOut = r.out();
        return TinyJson.parse(Files.readString(json, StandardCharsets.UTF_8));
    }

    private static long num(Object j, String path) {
        return TinyJson.num(j, path);
    }

    private static double dbl(Object j, String path) {
        return ((Number) TinyJson.at(j, path)).doubleValue();
    }

    /** hackbench's figures: every message sent once and received once; the total time is set. */
    static void checkHackbench(Object m, long durationNs) {
        long expected = num(m, "messages_expected");
        assertEquals(num(m, "groups") * (num(m, "senders") / num(m, "groups"))
                * (num(m, "receivers") / num(m, "groups")) * num(m, "loops"), expected);
        assertEquals(Boolean.TRUE, TinyJson.at(m, "completed"), "hackbench finished within the run: " + m);
        assertEquals(expected, num(m, "messages_sent"), "every message sent once");
        assertEquals(expected, num(m, "messages_received"), "every message received once");
        long t = num(m, "total_time_ns");
        assertTrue(t > 0 && t <= durationNs + 1_000_000_000L, "total time " + t);
        assertTrue(num(m, "wakeups") <= num(m, "messages_sent"), "at most one wakeup per message");
        assertTrue(num(m, "receiver_blocks") <= num(m, "wakeups") + num(m, "receivers"),
                "every block but the last ends with a wakeup");
    }

    /** schbench's figures: every request counted once; percentiles ordered; RPS matches the count. */
    static void checkSchbench(Object m) {
        long requests = num(m, "requests");
        long workers = num(m, "workers");
        assertTrue(requests > 0, "requests served: " + m);
        assertEquals(requests, num(m, "request_latency_us.samples"), "one request latency per request");
        long wakeSamples = num(m, "wakeup_latency_us.samples");
        assertTrue(wakeSamples >= requests && wakeSamples <= requests + workers,
                "one wakeup latency per request started (at most one in flight per worker): " + m);
        long wakeups = num(m, "wakeups");
        assertTrue(wakeups >= wakeSamples && wakeups <= wakeSamples + workers,
                "every stamped wakeup is seen once (a worker may not have run yet at the end): " + m);
        for (String h : new String[] {"wakeup_latency_us", "request_latency_us"}) {
            double p50 = dbl(m, h + ".p50");
            double p90 = dbl(m, h + ".p90");
            double p99 = dbl(m, h + ".p99");
            double p999 = ((Number) ((Map<?, ?>) TinyJson.at(m, h)).get("p99.9")).doubleValue();
            double max = dbl(m, h + ".max");
            assertTrue(0 <= p50 && p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max, h + " ordered: " + m);
        }
        assertTrue(dbl(m, "request_latency_us.max") >= 50.0, "a request runs at least 50 us: " + m);
        double rps = dbl(m, "requests_per_sec");
        double expectRps = requests / dbl(m, "runtime_s");
        assertTrue(Math.abs(rps - expectRps) <= 1e-6 * expectRps + 1e-9, "rps = requests / runtime: " + m);
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "qmap"})
    void hackbenchRunsAndCountsEveryMessageOnce(String sched) throws IOException {
        Object j = run(sched, "hackbench", 4, "2s");
        assertEquals("hackbench", TinyJson.at(j, "workload"));
        checkHackbench(TinyJson.at(j, "workload_metrics"), num(j, "duration_ns"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "qmap"})
    void schbenchRunsAndCountsEveryRequestOnce(String sched) throws IOException {
        Object j = run(sched, "schbench", 2, "1s");
        Object m = TinyJson.at(j, "workload_metrics");
        checkSchbench(m);
        assertEquals(2L, num(m, "message_threads"));
        assertEquals(4L, num(m, "workers"), "2 workers per CPU on 2 CPUs, shared by the message threads");
        assertTrue(lastOut.contains("Wakeup Latencies percentiles (usec) runtime ")
                && lastOut.contains("Request Latencies percentiles (usec)") && lastOut.contains("* 99.0th:")
                && lastOut.contains("average rps: "), "schbench's own report in the summary: " + lastOut);
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "qmap"})
    void mixedRunsEveryPartWithRtBursts(String sched) throws IOException {
        Object j = run(sched, "mixed", 4, "2s");
        Object m = TinyJson.at(j, "workload_metrics");
        for (String part : new String[] {"rt_preempt", "sleep_wake", "hackbench", "schbench"}) {
            assertInstanceOf(Map.class, TinyJson.at(m, part), part);
        }
        assertTrue(num(m, "rt_preempt.rt_bursts") > 0, "RT bursts: " + m);
        assertTrue(num(m, "sleep_wake.sleeps") > 0);
        checkHackbench(TinyJson.at(m, "hackbench"), num(j, "duration_ns"));
        checkSchbench(TinyJson.at(m, "schbench"));
        assertTrue(num(j, "latency_ns.stranded.count") > 0, "higher classes took CPUs from ext tasks");
        if ("qmap".equals(sched)) {
            assertTrue(num(j, "ops_calls.cpu_release") > 0, "qmap saw the RT bursts");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "qmap"})
    void workloadFileRunsAsDescribed(String sched) throws IOException {
        Path f = dir.resolve("good-" + sched + ".json");
        Files.writeString(f, GOOD_FILE);
        Object j = run(sched, "file:" + f, 2, "1s");
        assertEquals("file:" + f, TinyJson.at(j, "workload"));
        Object m = TinyJson.at(j, "workload_metrics");
        assertEquals(6L, num(m, "tasks"));
        List<?> kinds = (List<?>) TinyJson.at(m, "kinds");
        assertEquals(3, kinds.size());
        assertEquals("worker", TinyJson.at(m, "kinds.0.name"));
        assertEquals(3L, num(m, "kinds.0.tasks"));
        assertTrue(num(m, "kinds.0.run_ns_total") > 0);
        assertEquals(0L, num(m, "kinds.0.exited"), "loop 0: runs until the end");
        assertEquals("batch", TinyJson.at(m, "kinds.1.policy"));
        assertEquals(2L, num(m, "kinds.1.exited"), "loop 5 of 0.4 ms: done and exited");
        assertEquals(10L, num(m, "kinds.1.loops_done"), "5 loops each");
        assertEquals(10L, num(m, "kinds.1.run_phases"));
        assertEquals(10L, num(m, "kinds.1.sleep_phases"));
        assertEquals("fifo", TinyJson.at(m, "kinds.2.policy"));
        assertTrue(num(m, "kinds.2.run_phases") > 0, "the RT task ran");
        for (int k = 0; k < 3; k++) {
            long loops = num(m, "kinds." + k + ".loops_done");
            long runs = num(m, "kinds." + k + ".run_phases");
            assertTrue(runs >= loops && runs <= loops + num(m, "kinds." + k + ".tasks"), "one run per loop");
        }
    }

    static Stream<Arguments> badFiles() {
        String ok = "{\"run_ns\": 1000}";
        return Stream.of(
                Arguments.of("not JSON", "{\n  \"tasks\": [\n    {\"name\": \"a\",}\n  ]\n}\n",
                        "line 3: invalid JSON"),
                Arguments.of("trailing garbage", "{\"tasks\": [{\"name\": \"a\", \"phases\": [" + ok + "]}]}\nx\n",
                        "line 2: invalid JSON"),
                Arguments.of("top level not an object", "[1]\n", "line 1: (top level)"),
                Arguments.of("no tasks", "{\n  \"name\": \"x\"\n}\n", "line 1: tasks: missing"),
                Arguments.of("tasks not a list", "{\n  \"tasks\": 3\n}\n", "line 2: tasks: must be a list"),
                Arguments.of("empty tasks", "{\"tasks\": []}\n", "line 1: tasks: must not be empty"),
                Arguments.of("unknown top field", "{\n  \"tasks\": [],\n  \"tsks\": 1\n}\n",
                        "line 3: tsks: unknown field"),
                Arguments.of("task not an object", "{\"tasks\": [\n  3\n]}\n", "line 2: tasks[0]: must be an object"),
                Arguments.of("missing name", "{\"tasks\": [\n  {\"phases\": [" + ok + "]}\n]}\n",
                        "line 2: tasks[0].name: missing"),
                Arguments.of("bad name", "{\"tasks\": [\n  {\"name\": \"a b\", \"phases\": [" + ok + "]}\n]}\n",
                        "line 2: tasks[0].name"),
                Arguments.of("unknown task field", "{\"tasks\": [{\"name\": \"a\",\n \"phases\": [" + ok + "],\n"
                        + " \"prio\": 3}]}\n", "line 3: tasks[0].prio: unknown field"),
                Arguments.of("count zero", "{\"tasks\": [{\"name\": \"a\",\n \"count\": 0, \"phases\": [" + ok
                        + "]}]}\n", "line 2: tasks[0].count: 0 out of range, must be 1..4096"),
                Arguments.of("count a string", "{\"tasks\": [{\"name\": \"a\",\n \"count\": \"4\", \"phases\": ["
                        + ok + "]}]}\n", "line 2: tasks[0].count: must be an integer, got a string"),
                Arguments.of("count a fraction", "{\"tasks\": [{\"name\": \"a\",\n \"count\": 1.5, \"phases\": ["
                        + ok + "]}]}\n", "line 2: tasks[0].count: must be an integer, got 1.5"),
                Arguments.of("unknown policy", "{\"tasks\": [{\"name\": \"a\",\n \"policy\": \"cfs\", \"phases\": ["
                        + ok + "]}]}\n", "line 2: tasks[0].policy: \"cfs\": unknown"),
                Arguments.of("nice out of range", "{\"tasks\": [{\"name\": \"a\",\n \"nice\": 20, \"phases\": ["
                        + ok + "]}]}\n", "line 2: tasks[0].nice: 20 out of range, must be -20..19"),
                Arguments.of("affinity to a CPU that does not exist", "{\"tasks\": [{\"name\": \"a\", \"cpus\": [\n"
                        + "  0,\n  4\n], \"phases\": [" + ok + "]}]}\n",
                        "line 3: tasks[0].cpus[1]: CPU 4 does not exist (the machine has CPUs 0-3, --cpus 4)"),
                Arguments.of("negative CPU", "{\"tasks\": [{\"name\": \"a\",\n \"cpus\": [-1], \"phases\": [" + ok
                        + "]}]}\n", "line 2: tasks[0].cpus[0]: CPU -1 does not exist"),
                Arguments.of("empty affinity", "{\"tasks\": [{\"name\": \"a\",\n \"cpus\": [], \"phases\": [" + ok
                        + "]}]}\n", "line 2: tasks[0].cpus: must be a non-empty list"),
                Arguments.of("stop task on two CPUs", "{\"tasks\": [{\"name\": \"a\",\n \"policy\": \"stop\", \"cpus\":"
                        + " [0, 1], \"phases\": [" + ok + "]}]}\n", "line 2: tasks[0].cpus: a stop task is per CPU"),
                Arguments.of("negative loop", "{\"tasks\": [{\"name\": \"a\",\n \"loop\": -1, \"phases\": [" + ok
                        + "]}]}\n", "line 2: tasks[0].loop: -1 out of range"),
                Arguments.of("no phases", "{\"tasks\": [\n  {\"name\": \"a\"}\n]}\n",
                        "line 2: tasks[0].phases: missing"),
                Arguments.of("empty phases", "{\"tasks\": [{\"name\": \"a\",\n \"phases\": []}]}\n",
                        "line 2: tasks[0].phases: must be a non-empty list"),
                Arguments.of("zero run", "{\"tasks\": [{\"name\": \"a\", \"phases\": [\n  {\"run_ns\": 0}\n]}]}\n",
                        "line 2: tasks[0].phases[0].run_ns: 0 out of range"),
                Arguments.of("unknown phase field", "{\"tasks\": [{\"name\": \"a\", \"phases\": [" + ok + ",\n"
                        + "  {\"spin_ns\": 5}\n]}]}\n", "line 2: tasks[0].phases[1].spin_ns: unknown field"),
                Arguments.of("two fields in a phase", "{\"tasks\": [{\"name\": \"a\", \"phases\": [\n"
                        + "  {\"run_ns\": 5, \"sleep_ns\": 5}\n]}]}\n", "line 2: tasks[0].phases[0]: must be an object"
                        + " with exactly one of run_ns, sleep_ns"),
                Arguments.of("sleeps only, forever", "{\"tasks\": [{\"name\": \"a\",\n \"phases\": [{\"sleep_ns\": 5}]"
                        + "}]}\n", "line 2: tasks[0].phases: only sleeps, forever"),
                Arguments.of("too many tasks", "{\"tasks\": [" + ("{\"name\": \"a\", \"count\": 4096, \"phases\": ["
                        + ok + "]},\n").repeat(4) + " {\"name\": \"e\",\n \"count\": 1, \"phases\": [" + ok + "]}]}\n",
                        "line 6: tasks[4].count: more than 16384 tasks"),
                Arguments.of("duplicate key", "{\"tasks\": [{\"name\": \"a\",\n \"name\": \"b\", \"phases\": [" + ok
                        + "]}]}\n", "line 2: invalid JSON: column 10: duplicate key \"name\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void badWorkloadFileIsOneLineWithLineAndField(String what, String content, String expected) throws IOException {
        Path f = dir.resolve("bad-" + what.replaceAll("[^a-z]", "_") + ".json");
        Files.writeString(f, content);
        expectUsage(expected, "run", "--scheduler", "simple", "--cpus", "4", "--workload", "file:" + f);
    }

    static Stream<Arguments> badWorkloadNames() {
        return Stream.of(
                Arguments.of("missing file", "file:" + dir.resolve("nope.json"), "nope.json: no such file"),
                Arguments.of("no file name", "file:", "no file name after 'file:'"),
                Arguments.of("a directory", "file:" + dir, "cannot read"),
                Arguments.of("unknown workload", "hackbnech", "unknown workload"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badWorkloadNames")
    void badWorkloadIsOneLine(String what, String workload, String expected) throws IOException {
        expectUsage(expected, "run", "--scheduler", "qmap", "--workload", workload);
    }

    private static void expectUsage(String expected, String... args) throws IOException {
        Path json = dir.resolve("never.json");
        String[] full = Stream.concat(Stream.of(args), Stream.of("--json", json.toString())).toArray(String[]::new);
        CliRunner.Result r = CliRunner.run(full);
        assertEquals(Main.EXIT_USAGE, r.code(), r.describe());
        assertEquals(1, r.errLines().size(), "exactly one line: " + r.describe());
        assertTrue(r.err().startsWith("scx-emu: --workload "), r.describe());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.describe());
        assertEquals("", r.out(), r.describe());
        assertFalse(Files.exists(json), "nothing written");
    }
}
