// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad usage: every case exits 2 with exactly one line on stderr that starts with
 * {@code scx-emu: } and says what is wrong, prints nothing on stdout and writes no file.
 */
class UsageTest {
    @TempDir
    static Path dir;

    static Stream<Arguments> badCommandLines() throws IOException {
        Path readOnlyDir = dir.resolve("ro");
        Files.createDirectories(readOnlyDir);
        boolean canMakeReadOnly = readOnlyDir.toFile().setWritable(false, false)
                && !Files.isWritable(readOnlyDir); // root ignores permissions
        List<Arguments> cases = new ArrayList<>(List.of(
                Arguments.of("no command", new String[] {}, "missing command"),
                Arguments.of("unknown command", new String[] {"frob"}, "unknown command 'frob'"),
                Arguments.of("unknown top-level flag", new String[] {"--frob"}, "Unknown option: '--frob'"),
                Arguments.of("no scheduler", new String[] {"run"}, "--scheduler"),
                Arguments.of("unknown flag", new String[] {"run", "--scheduler", "simple", "--bogus"},
                        "Unknown option: '--bogus'"),
                Arguments.of("unknown scheduler", new String[] {"run", "--scheduler", "cfs"},
                        "--scheduler cfs: unknown scheduler; valid: simple, qmap"),
                Arguments.of("user scheduler class not found",
                        new String[] {"run", "--scheduler", "class:com.example.My"},
                        "class com.example.My not found"),
                Arguments.of("unknown workload", new String[] {"run", "--scheduler", "simple", "--workload", "nope"},
                        "--workload nope: unknown workload; valid: cpu-bound, sleep-wake, rt-preempt, hackbench,"
                        + " schbench, mixed, pair, or file:PATH"),
                Arguments.of("zero cpus", new String[] {"run", "--scheduler", "simple", "--cpus", "0"},
                        "--cpus 0: out of range, must be 1..256"),
                Arguments.of("too many cpus", new String[] {"run", "--scheduler", "simple", "--cpus", "257"},
                        "--cpus 257: out of range, must be 1..256"),
                Arguments.of("negative cpus", new String[] {"run", "--scheduler", "simple", "--cpus", "-1"}, "--cpus"),
                Arguments.of("cpus not a number", new String[] {"run", "--scheduler", "simple", "--cpus", "four"},
                        "'four' is not an int"),
                Arguments.of("duration without unit", new String[] {"run", "--scheduler", "simple", "--duration", "5"},
                        "'5' is not a duration"),
                Arguments.of("duration bad unit", new String[] {"run", "--scheduler", "simple", "--duration", "5x"},
                        "'5x' is not a duration"),
                Arguments.of("zero duration", new String[] {"run", "--scheduler", "simple", "--duration", "0s"},
                        "out of range"),
                Arguments.of("negative duration", new String[] {"run", "--scheduler", "simple", "--duration", "-1s"},
                        "duration"),
                Arguments.of("duration too long", new String[] {"run", "--scheduler", "simple", "--duration", "25h"},
                        "out of range"),
                Arguments.of("bad seed", new String[] {"run", "--scheduler", "simple", "--seed", "x"}, "--seed"),
                Arguments.of("unknown kernel", new String[] {"run", "--scheduler", "simple", "--kernel", "v6.12"},
                        "--kernel v6.12: unknown kernel profile; valid: v7"),
                Arguments.of("trace in a missing directory",
                        new String[] {"run", "--scheduler", "simple", "--trace", dir.resolve("no/t.json").toString()},
                        "--trace"),
                Arguments.of("json and trace to one file",
                        new String[] {"run", "--scheduler", "simple", "--json", dir.resolve("same.json").toString(),
                            "--trace", dir.resolve("./same.json").toString()},
                        "--json and --trace name the same file"),
                Arguments.of("json in a missing directory",
                        new String[] {"run", "--scheduler", "simple", "--json",
                            dir.resolve("no/such/x.json").toString()},
                        "--json"),
                Arguments.of("json is a directory",
                        new String[] {"run", "--scheduler", "simple", "--json", dir.toString()},
                        "is a directory"),
                Arguments.of("option given twice",
                        new String[] {"run", "--scheduler", "simple", "--cpus", "2", "--cpus", "3"}, "--cpus"),
                Arguments.of("qmap option on simple",
                        new String[] {"run", "--scheduler", "simple", "--stall-user-nth", "1"},
                        "--stall-user-nth: the simple scheduler has no such option (it belongs to: qmap, qmap-6.12)"),
                Arguments.of("no-cpu-release on simple",
                        new String[] {"run", "--scheduler", "simple", "--no-cpu-release"}, "no such option"),
                Arguments.of("simple option on qmap", new String[] {"run", "--scheduler", "qmap", "--fifo"},
                        "--fifo: the qmap scheduler has no such option"),
                Arguments.of("timeout too long", new String[] {"run", "--scheduler", "qmap", "--timeout-ms", "30001"},
                        "--timeout-ms 30001: out of range"),
                Arguments.of("zero slice", new String[] {"run", "--scheduler", "qmap", "--slice-us", "0"},
                        "--slice-us 0: out of range"),
                Arguments.of("negative stall", new String[] {"run", "--scheduler", "qmap", "--stall-user-nth", "-2"},
                        "must not be negative"),
                Arguments.of("tick rate", new String[] {"run", "--scheduler", "simple", "--tick-hz", "0"},
                        "--tick-hz 0: out of range"),
                Arguments.of("stress: bad chaos", new String[] {"stress", "--scheduler", "qmap", "--chaos", "rt=x"},
                        "--chaos rt=x: "),
                Arguments.of("stress: unknown injector", new String[] {"stress", "--scheduler", "qmap", "--chaos",
                    "bogus"}, "--chaos bogus: "),
                Arguments.of("stress: zero stall limit", new String[] {"stress", "--scheduler", "qmap",
                    "--stall-limit", "0s"}, "--stall-limit"),
                Arguments.of("stress: run's checks apply", new String[] {"stress", "--scheduler", "nope"},
                        "--scheduler nope: unknown scheduler"),
                Arguments.of("list with an argument", new String[] {"list", "extra"}, "extra")));
        if (canMakeReadOnly) {
            cases.add(Arguments.of("json in a read-only directory",
                    new String[] {"run", "--scheduler", "simple", "--json", readOnlyDir.resolve("x.json").toString()},
                    "cannot write"));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCommandLines")
    void badUsageIsOneLineAndExitTwo(String what, String[] args, String expected) throws IOException {
        List<Path> before;
        try (Stream<Path> s = Files.walk(dir)) {
            before = s.toList();
        }
        CliRunner.Result r = CliRunner.run(args);
        assertEquals(Main.EXIT_USAGE, r.code(), r.describe());
        assertEquals(1, r.errLines().size(), "exactly one line on stderr: " + r.describe());
        assertTrue(r.err().startsWith("scx-emu: "), r.describe());
        assertTrue(r.err().endsWith("\n"), r.describe());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.describe());
        assertFalse(r.err().contains("Usage:"), "no usage dump: " + r.describe());
        assertEquals("", r.out(), r.describe());
        try (Stream<Path> s = Files.walk(dir)) {
            assertEquals(before, s.toList(), "nothing written");
        }
    }

    @Test
    void listNamesEverySchedulerWorkloadAndKernelProfileOnce() {
        CliRunner.Result r = CliRunner.run("list");
        assertEquals(0, r.code(), r.describe());
        assertEquals("", r.err());
        List<String> lines = r.outLines();
        String[][] expected = {
            {"scheduler", "simple"}, {"scheduler", "qmap"}, {"scheduler", "qmap-6.12"}, {"scheduler", "central"},
            {"scheduler", "pair"},
            {"workload", "cpu-bound"}, {"workload", "sleep-wake"}, {"workload", "rt-preempt"},
            {"workload", "hackbench"}, {"workload", "schbench"}, {"workload", "mixed"}, {"workload", "pair"},
            {"workload", "file:PATH"},
            {"kernel", "v7"}, {"kernel", "6.12"}, {"kernel", "6.16"}, {"kernel", "6.19"},
        };
        assertEquals(expected.length, lines.size(), r.describe());
        for (String[] e : expected) {
            long n = lines.stream().filter(l -> {
                String[] f = l.trim().split("\\s+", 3);
                return f.length == 3 && f[0].equals(e[0]) && f[1].equals(e[1]) && !f[2].isBlank();
            }).count();
            assertEquals(1, n, e[0] + " " + e[1] + " listed once with a description: " + r.describe());
        }
    }

    @Test
    void helpAndVersionExitZero() {
        CliRunner.Result top = CliRunner.run("--help");
        assertEquals(0, top.code(), top.describe());
        assertTrue(top.out().contains("run") && top.out().contains("list") && top.out().contains("stress"));
        CliRunner.Result run = CliRunner.run("run", "--help");
        assertEquals(0, run.code(), run.describe());
        for (String opt : new String[] {"--scheduler", "--cpus", "--workload", "--duration", "--seed", "--kernel",
            "--json", "--no-cpu-release", "--stall-user-nth", "--timeout-ms"}) {
            assertTrue(run.out().contains(opt), opt + " in run --help");
        }
        CliRunner.Result version = CliRunner.run("--version");
        assertEquals(0, version.code(), version.describe());
        assertTrue(version.out().startsWith("scx-emu "));
    }

    @Test
    void durationsParseTheirUnits() {
        assertEquals(500_000_000L, Durations.parse("500ms"));
        assertEquals(5_000_000_000L, Durations.parse("5s"));
        assertEquals(60_000_000_000L, Durations.parse("1m"));
        assertEquals(1_500_000_000L, Durations.parse("1.5s"));
        assertEquals(250_000L, Durations.parse("250us"));
        assertEquals(7L, Durations.parse("7ns"));
        assertEquals(Durations.MAX_NS, Durations.parse("24h"));
        for (String bad : new String[] {"", "5", "s", "5 s", "1e3s", "-5s", "0ms", "0.1ns", "1.s", "5S", "25h"}) {
            try {
                Durations.parse(bad);
                throw new AssertionError("accepted '" + bad + "'");
            } catch (picocli.CommandLine.TypeConversionException expected) {
                assertTrue(expected.getMessage().contains("'" + bad + "'"));
            }
        }
    }

    @Test
    void oneLineFlattensMessages() {
        assertEquals("a; b; c", Main.oneLine("a\nb\r\n  c\n"));
        String t = Main.oneLine(new IllegalStateException("x\ny"));
        assertTrue(t.startsWith("java.lang.IllegalStateException: x; y (at "), t);
        assertFalse(t.contains("\n"));
    }
}
