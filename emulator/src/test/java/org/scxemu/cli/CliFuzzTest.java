// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the command line: a command (or none, or a bogus one) and a few
 * options drawn from every option scx-emu has, with good, bad, empty, huge and control-character
 * values. Whatever comes, the process ends with 0, 1, 2 (3 only for stress) within a time bound,
 * says at most one {@code scx-emu:} line, never prints a stack trace, and writes no file when it
 * exits 2. The durations drawn are short, so the runs that are valid stay quick.
 */
class CliFuzzTest {
    private static Path dir;
    /** One command line's bound: a valid run is at most 300 ms plus its start and end. */
    private static final long BOUND_MS = 30_000;
    /** How many command lines ran a scheduler to the end (the fuzz must reach real runs too). */
    private static final AtomicInteger RUNS = new AtomicInteger();

    @BeforeContainer
    static void makeDir() throws IOException {
        dir = Files.createTempDirectory("scx-cli-fuzz");
        Files.writeString(dir.resolve("bad.json"), "{\"tasks\": [{\"name\": \"\u001b[31m\", \"phases\": []}]}");
        Files.writeString(dir.resolve("good.json"), "{\"tasks\": [{\"name\": \"w\", \"count\": 3, \"phases\": "
                + "[{\"run_ns\": 1000000}, {\"sleep_ns\": 500000}]}]}");
    }

    @AfterContainer
    static void removeDir() throws IOException {
        System.out.println("CliFuzzTest: " + RUNS.get() + " command lines ran a scheduler to the end");
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Provide
    Arbitrary<List<String>> commandLines() {
        Arbitrary<String> command = Arbitraries.of("run", "run", "run", "stress", "list", "help", "bogus", "--help",
                "-V", "");
        // each option at most once (picocli refuses repeats, which would make nearly every line bad usage)
        Arbitrary<List<List<String>>> opts = option().list().ofMinSize(0).ofMaxSize(3).uniqueElements(l -> l.get(0));
        Arbitrary<String> duration = Arbitraries.of("50ms", "100ms", "300ms", "50ms", "100ms", "0s", "-1s", "1x", "",
                "999999h", "1e3s", "\u001b[2J");
        return Combinators.combine(command, opts, duration, Arbitraries.integers().between(0, 1_000_000))
                .as((c, o, d, n) -> {
                    List<String> args = new ArrayList<>();
                    if (!c.isEmpty()) {
                        args.add(c);
                    }
                    boolean named = false;
                    for (List<String> one : o) {
                        args.addAll(one);
                        named |= one.get(0).equals("--scheduler");
                    }
                    if (!named && n % 4 != 0) { // mostly a scheduler that exists, so that some lines run
                        args.add("--scheduler");
                        args.add(n % 2 == 0 ? "simple" : "qmap");
                    }
                    args.add("--duration");
                    args.add(d);
                    args.add("--json");
                    args.add(dir.resolve("out-" + n + ".json").toString());
                    return args;
                });
    }

    private Arbitrary<List<String>> option() {
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.of("1", "2", "4", "0", "-1", "257", "3", "9223372036854775808", "x", "", " ", "simple",
                        "qmap", "central", "pair", "class:", "class:com.example.Nope", "class:java.lang.String",
                        "cpu-bound", "sleep-wake", "hackbench", "pair", "file:", "file:/nonexistent",
                        "file:/dev/zero", "file:" + dir.resolve("bad.json"), "file:" + dir.resolve("good.json"),
                        "v7", "6.12", "6.16", "6.19", "7.0", "random", "pct", "-", dir.toString(), "/dev/null",
                        "all", "none", "rt=2,kick", "rt=-1", "watchdog", "2s", "a\u0007b", "\u009b31m"),
                Arbitraries.strings().ofMaxLength(12));
        Arbitrary<String> name = Arbitraries.of("--scheduler", "--scheduler", "--cpus", "--workload", "--seed",
                "--kernel", "--trace", "--tick-hz", "--fifo", "--no-cpu-release", "--slice-us", "--central-cpu",
                "--stride", "--as-written", "--timeout-ms", "--stall-user-nth", "--dsp-batch", "--error-after",
                "--controlled", "--strategy", "--pct-depth", "--max-steps", "--chaos", "--stall-limit", "--search",
                "--search-invariant", "--classpath", "--no-progress", "--bogus", "-x");
        return Combinators.combine(name, value).as((n, v) -> {
            boolean flag = n.equals("--fifo") || n.equals("--no-cpu-release") || n.equals("--as-written")
                    || n.equals("--controlled") || n.equals("--no-progress");
            return flag ? List.of(n) : List.of(n, v);
        });
    }

    @Property(tries = 150, seed = "20261204", edgeCases = EdgeCasesMode.NONE)
    void anyCommandLineEndsCleanly(@ForAll("commandLines") List<String> args) {
        long t0 = System.nanoTime();
        CliRunner.Result r = CliRunner.run(args.toArray(new String[0]));
        long ms = (System.nanoTime() - t0) / 1_000_000L;
        String what = r.describe();
        boolean stress = !args.isEmpty() && args.get(0).equals("stress");
        assertTrue(r.code() == 0 || r.code() == 1 || r.code() == 2 || stress && r.code() == 3, what);
        assertTrue(ms < BOUND_MS, "ended in " + ms + " ms: " + what);
        long prefixed = r.errLines().stream().filter(l -> l.startsWith("scx-emu:")).count();
        assertTrue(prefixed <= 1, "at most one scx-emu: line: " + what);
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception in thread"), "no stack trace: " + what);
        assertFalse(r.err().contains("internal error"), what);
        if (r.code() == 0 && args.get(0).equals("run")) {
            RUNS.incrementAndGet();
        }
        if (r.code() == Main.EXIT_USAGE) {
            String json = args.get(args.size() - 1);
            assertFalse(Files.exists(Path.of(json)), "nothing written on exit 2: " + what);
            assertTrue(r.out().isEmpty() || !r.out().contains("summary:"), "nothing ran: " + what);
        }
    }
}
