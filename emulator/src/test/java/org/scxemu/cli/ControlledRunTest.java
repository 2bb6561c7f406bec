// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code run --controlled}: the same seed gives byte-identical JSON summaries and traces, another
 * seed another run; an ejection prints the seed and the step and replays exactly; bad option
 * combinations are one line and exit 2.
 */
class ControlledRunTest {
    @TempDir
    Path dir;

    private CliRunner.Result run(String name, String... args) {
        String[] full = Stream.concat(Stream.of("run", "--controlled", "--no-progress", "--json",
                dir.resolve(name + ".json").toString(), "--trace", dir.resolve(name + ".trace.json").toString()),
                Stream.of(args)).toArray(String[]::new);
        return CliRunner.run(full);
    }

    private byte[] read(String file) throws IOException {
        return Files.readAllBytes(dir.resolve(file));
    }

    @ParameterizedTest(name = "{0} on {1} CPUs, {2}, {3}")
    @CsvSource({
        "simple, 2, cpu-bound, random",
        "simple, 4, sleep-wake, pct",
        "qmap, 2, rt-preempt, pct",
        "qmap, 4, mixed, random",
    })
    void theSameSeedGivesTheSameTraceAndJson(String sched, int cpus, String workload, String strategy)
            throws IOException {
        String[] args = {"--scheduler", sched, "--cpus", String.valueOf(cpus), "--workload", workload, "--duration",
            "150ms", "--strategy", strategy, "--seed", "11"};
        CliRunner.Result a = run("a", args);
        CliRunner.Result b = run("b", args);
        assertEquals(Main.EXIT_OK, a.code(), a.describe());
        assertEquals(a.out(), b.out(), "the same output");
        assertArrayEquals(read("a.json"), read("b.json"), "byte-identical JSON");
        assertArrayEquals(read("a.trace.json"), read("b.trace.json"), "byte-identical trace");
        String json = new String(read("a.json"));
        assertTrue(json.contains("\"controlled\": {"), json);
        assertTrue(json.contains("\"strategy\": \"" + strategy + "\""), json);
        assertTrue(json.contains("\"stopped_by\": \"duration\""), json);
        assertTrue(json.contains("\"duration_ns\": 150"), "simulated duration: " + json);
        String trace = new String(read("a.trace.json"));
        assertTrue(trace.contains("\"cat\": \"handover\""), "hand-overs in the trace");
        assertTrue(trace.contains("\"handovers_dropped\": 0"), "every hand-over kept");

        String[] other = args.clone();
        other[other.length - 1] = "12";
        run("c", other);
        assertFalse(java.util.Arrays.equals(read("a.trace.json"), read("c.trace.json")), "another seed, another run");
    }

    @Test
    void anEjectionPrintsTheSeedAndStepAndReplaysExactly() throws IOException {
        String[] args = {"--scheduler", "qmap", "--cpus", "2", "--workload", "cpu-bound", "--duration", "3s",
            "--stall-user-nth", "3", "--timeout-ms", "300", "--seed", "4"};
        CliRunner.Result a = run("a", args);
        CliRunner.Result b = run("b", args);
        assertEquals(Main.EXIT_EJECTED, a.code(), a.describe());
        assertTrue(a.err().contains("SCX_EXIT_ERROR_STALL"), a.describe());
        assertTrue(a.err().contains("controlled run: seed 4, step "), a.describe());
        assertTrue(a.err().contains("[handover] #"), a.describe());
        assertEquals(a.err(), b.err(), "the same ejection at the same step");
        assertArrayEquals(read("a.trace.json"), read("b.trace.json"));
        String json = new String(read("a.json"));
        assertTrue(json.contains("\"stopped_by\": \"exit\""), json);
        assertNotEquals(-1, json.indexOf("\"kind\": \"ERROR_STALL\""), json);
    }

    static Stream<Arguments> badCombinations() {
        return Stream.of(
                Arguments.of(new String[] {"--strategy", "pct"}, "--strategy: only with --controlled"),
                Arguments.of(new String[] {"--pct-depth", "2"}, "--pct-depth: only with --controlled"),
                Arguments.of(new String[] {"--max-steps", "10"}, "--max-steps: only with --controlled"),
                Arguments.of(new String[] {"--controlled", "--strategy", "dfs"},
                        "--strategy dfs: unknown strategy; valid: random, pct"),
                Arguments.of(new String[] {"--controlled", "--pct-depth", "3"},
                        "--pct-depth: only with --strategy pct"),
                Arguments.of(new String[] {"--controlled", "--strategy", "random", "--pct-depth", "3"},
                        "--pct-depth: only with --strategy pct"),
                Arguments.of(new String[] {"--controlled", "--strategy", "pct", "--pct-depth", "0"},
                        "--pct-depth 0: out of range"),
                Arguments.of(new String[] {"--controlled", "--max-steps", "0"}, "--max-steps 0: out of range"),
                Arguments.of(new String[] {"--controlled", "--workload", "pair"}, "--workload pair: its observer"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badCombinations")
    void badCombinationsAreOneLineAndExitTwo(String[] extra, String expected) {
        CliRunner.runBadUsage(expected, Stream.concat(Stream.of("run", "--scheduler", "qmap", "--duration",
                "100ms"), Stream.of(extra)).toArray(String[]::new));
    }
}
