// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.scxemu.harness.TinyJson;

/**
 * The hostile-scheduler matrix: a user scheduler that throws, throws an Error, loops for ever,
 * sleeps 10 s, or uses a task it kept from an earlier call, in one op at a time. Every run must
 * end in bounded time (its 1 s duration plus the op bound, half the scheduler's 1 s watchdog
 * timeout, plus a few seconds), with exit 1, no stack trace, the summary printed and a JSON whose
 * exit names the op (its kernel name, or for a kfunc misuse the scheduler's own method in the
 * backtrace). In-process, through {@link Main#execute}; a loop is let go after its run has been
 * reported so the next run can load (a real process simply exits).
 */
class HostileSchedulerMatrixTest {
    /** duration 1 s + op bound 0.5 s + abandoning a stuck harness 3 s + stop and report. */
    private static final long BOUND_MS = 9_000;

    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("throw", "select_cpu", "select_cpu"),
                Arguments.of("throw", "enqueue", "enqueue"),
                Arguments.of("throw", "dispatch", "dispatch"),
                Arguments.of("throw", "running", "running"),
                Arguments.of("throw", "stopping", "stopping"),
                Arguments.of("throw", "tick", "tick"),
                Arguments.of("throw", "init", "init"),
                Arguments.of("throw", "exit_task", "exit_task"),
                Arguments.of("throw", "exit", "exit"),
                Arguments.of("error", "init", "init"),
                Arguments.of("error", "dispatch", "dispatch"),
                Arguments.of("error", "exit", "exit"),
                Arguments.of("loop", "enqueue", "enqueue"),
                Arguments.of("loop", "dispatch", "dispatch"),
                Arguments.of("loop", "running", "running"),
                Arguments.of("loop", "init", "init"),
                Arguments.of("sleep", "dispatch", "dispatch"),
                Arguments.of("sleep", "tick", "tick"),
                Arguments.of("sleep", "stopping", "stopping"),
                Arguments.of("stale", "running", "Hostile.running"),
                Arguments.of("stale", "tick", "Hostile.tick"));
    }

    @AfterEach
    void letGo() throws InterruptedException {
        HostileJar.release();
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("cases")
    void everyMisbehaviourEndsInBoundedTimeWithExitOneNamingTheOp(String act, String op, String named)
            throws Exception {
        Path jar = HostileJar.jar();
        Path json = dir.resolve("out.json");
        HostileJar.misbehave(op, act);
        long t0 = System.nanoTime();
        CliRunner.Result r = CliRunner.run("run", "--scheduler", HostileJar.CLASS, "--classpath", jar.toString(),
                "--cpus", "2", "--workload", "sleep-wake", "--duration", "1s", "--json", json.toString());
        long ms = (System.nanoTime() - t0) / 1_000_000L;
        assertEquals(Main.EXIT_EJECTED, r.code(), r.describe());
        assertTrue(ms < BOUND_MS, "ended in " + ms + " ms: " + r.describe());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.describe());
        assertFalse(r.err().contains("internal error"), r.describe());
        assertTrue(r.out().contains("summary:"), "the summary is printed: " + r.describe());
        Object j = TinyJson.parse(Files.readString(json, StandardCharsets.UTF_8));
        String msg = (String) TinyJson.at(j, "exit.msg");
        String where = msg + "\n" + TinyJson.at(j, "exit.dump");
        assertTrue(msg.contains("ops." + named + "()") || named.startsWith("Hostile.") && where.contains(named),
                "exit names " + named + ": " + msg + "\n" + r.describe());
        assertTrue(((String) TinyJson.at(j, "exit.kind")).startsWith("ERROR"), msg);
        if (act.equals("loop") || act.equals("sleep")) {
            assertEquals("ERROR_STALL", TinyJson.at(j, "exit.kind"));
            assertTrue(where.contains("com.example.Hostile.misbehave"), "the stuck thread's stack: " + where);
        }
    }

    static Stream<Arguments> modes() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String mode : new String[] {"stress", "run --controlled", "stress --controlled"}) {
            b.add(Arguments.of(mode, "sleep", "dispatch"));
            b.add(Arguments.of(mode, "loop", "dispatch"));
            b.add(Arguments.of(mode, "loop", "enqueue"));
            b.add(Arguments.of(mode, "sleep", "init"));
        }
        return b.build();
    }

    /**
     * The same watchdog in the other modes: a sleeping op, and an op that never returns (which
     * holds its locks and, in a controlled run, the turn), end stress and controlled runs in
     * bounded time with exit 1, the summary and a JSON naming the op.
     */
    @ParameterizedTest(name = "{1} in {2} under {0}")
    @MethodSource("modes")
    void aStuckOpIsCaughtInEveryMode(String mode, String act, String op) throws Exception {
        Path json = dir.resolve("mode.json");
        HostileJar.misbehave(op, act);
        String[] args = Stream.concat(Stream.of(mode.split(" ")), Stream.of("--scheduler", HostileJar.CLASS,
                "--classpath", HostileJar.jar().toString(), "--cpus", "2", "--duration", "1s", "--json",
                json.toString())).toArray(String[]::new);
        long t0 = System.nanoTime();
        CliRunner.Result r = CliRunner.run(args);
        long ms = (System.nanoTime() - t0) / 1_000_000L;
        assertEquals(Main.EXIT_EJECTED, r.code(), r.describe());
        assertTrue(ms < BOUND_MS, "ended in " + ms + " ms: " + r.describe());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.describe());
        assertFalse(r.err().contains("internal error"), r.describe());
        assertTrue(r.out().contains("summary:"), "the summary is printed: " + r.describe());
        Object j = TinyJson.parse(Files.readString(json, StandardCharsets.UTF_8));
        assertEquals("ERROR_STALL", TinyJson.at(j, "exit.kind"), r.describe());
        assertTrue(((String) TinyJson.at(j, "exit.msg")).contains("ops." + op + "()"), r.describe());
    }
}
