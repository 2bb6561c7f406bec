// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scxemu.harness.TinyJson;

/**
 * What only a whole process shows, each in a child JVM ({@code java -cp ... org.scxemu.cli.Main}):
 * an op that loops for ever with no way out, an exception on a thread the scheduler started, an
 * OutOfMemoryError in an op, {@code System.exit()} called by the scheduler, SIGTERM during a run.
 * Each ends with a non-zero status that says whose fault it was, in bounded time, without a stack
 * trace, and leaves a JSON (the run's, or one marked cut short) and no temporary file.
 */
class ProcessExitTest {
    @TempDir
    Path dir;

    private HostileJar.Proc hostile(String op, String act, List<String> extraJvm, String... more) throws Exception {
        Path jar = HostileJar.jar();
        List<String> jvm = new java.util.ArrayList<>(List.of("-Dhostile.op=" + op, "-Dhostile.act=" + act,
                "-Dhostile.timeout_ms=1000"));
        jvm.addAll(extraJvm);
        String[] args = Stream.concat(Stream.of("run", "--scheduler", HostileJar.CLASS, "--classpath", jar.toString(),
                "--cpus", "2", "--workload", "sleep-wake", "--duration", "2s", "--json",
                dir.resolve("out.json").toString()), Stream.of(more)).toArray(String[]::new);
        return HostileJar.runMain(jvm, 60, null, args);
    }

    private Object json() throws Exception {
        return TinyJson.parse(Files.readString(dir.resolve("out.json"), StandardCharsets.UTF_8));
    }

    private void noLeftovers(HostileJar.Proc p) throws Exception {
        assertFalse(p.err().contains("\tat "), "no stack trace: " + p.describe());
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    /** Defect class 2: while (true) {} with no exit, in a real process: ejected, reported, exit 1. */
    @Test
    void anOpThatNeverReturnsEndsTheRunWithExitOne() throws Exception {
        // no hostile.release in the child: the loop never ends; the process must end anyway
        HostileJar.Proc p = hostile("dispatch", "loop", List.of());
        assertEquals(Main.EXIT_EJECTED, p.code(), p.describe());
        assertTrue(p.ms() < 2_000 + 1_000 + 15_000, "duration + watchdog timeout + a few seconds: " + p.describe());
        assertTrue(p.err().contains("SCX_EXIT_ERROR_STALL"), p.describe());
        assertTrue(((String) TinyJson.at(json(), "exit.msg")).contains("ops.dispatch()"), p.describe());
        noLeftovers(p);
    }

    /**
     * The same in the other modes, in a real process: an enqueue that never returns holds its rq
     * lock (and, controlled, the turn), yet the run ends with exit 1, the summary and a JSON
     * naming the op, within duration + op bound + the harness's abandon wait + a few seconds.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"run --controlled", "stress", "stress --controlled"})
    void anOpThatNeverReturnsEndsEveryModeWithExitOne(String mode) throws Exception {
        String[] args = Stream.concat(Stream.of(mode.split(" ")), Stream.of("--scheduler", HostileJar.CLASS,
                "--classpath", HostileJar.jar().toString(), "--cpus", "2", "--duration", "1s", "--json",
                dir.resolve("out.json").toString())).toArray(String[]::new);
        HostileJar.Proc p = HostileJar.runMain(List.of("-Dhostile.op=enqueue", "-Dhostile.act=loop",
                "-Dhostile.timeout_ms=1000"), 60, null, args);
        assertEquals(Main.EXIT_EJECTED, p.code(), p.describe());
        assertTrue(p.ms() < 1_000 + 500 + 3_000 + 8_000, "duration + op bound + abandon + a few seconds: "
                + p.describe());
        assertTrue(p.out().contains("summary:"), p.describe());
        assertEquals("ERROR_STALL", TinyJson.at(json(), "exit.kind"), p.describe());
        assertTrue(((String) TinyJson.at(json(), "exit.msg")).contains("ops.enqueue()"), p.describe());
        noLeftovers(p);
    }

    /** Defect class 4: the scheduler's own thread throws: the scheduler is blamed, not scx-emu. */
    @Test
    void anExceptionOnTheSchedulersThreadEjectsIt() throws Exception {
        HostileJar.Proc p = hostile("enqueue", "thread", List.of());
        assertEquals(Main.EXIT_EJECTED, p.code(), p.describe());
        assertFalse(p.err().contains("internal error"), p.describe());
        String msg = (String) TinyJson.at(json(), "exit.msg");
        assertTrue(msg.contains("thread hostile-enqueue") && msg.contains("Hostile"), msg);
        noLeftovers(p);
    }

    /** Defect class 2/4: OutOfMemoryError in an op is the scheduler's fault. */
    @Test
    void outOfMemoryInAnOpEjectsTheScheduler() throws Exception {
        HostileJar.Proc p = hostile("dispatch", "oom", List.of("-Xmx128m"));
        assertEquals(Main.EXIT_EJECTED, p.code(), p.describe());
        String msg = (String) TinyJson.at(json(), "exit.msg");
        assertTrue(msg.contains("ops.dispatch()") && msg.contains("OutOfMemoryError"), msg);
        noLeftovers(p);
    }

    /** Defect class 10: System.exit() from the scheduler: status 1, one line, JSON marked cut short. */
    @Test
    void systemExitByTheSchedulerIsNotASuccess() throws Exception {
        HostileJar.Proc p = hostile("dispatch", "exit", List.of());
        assertEquals(Main.EXIT_EJECTED, p.code(), p.describe());
        assertTrue(p.err().contains("the run was cut short"), p.describe());
        assertEquals("exit", TinyJson.at(json(), "cut_short.reason"));
        noLeftovers(p);
    }

    /** Defect class 8: SIGTERM during a run: says so, status 143, JSON marked cut short. */
    @Test
    void sigtermDuringARunSaysSoAndMarksTheJson() throws Exception {
        Path json = dir.resolve("out.json");
        // the handle only signals (Process.destroy() would also close our ends of the child's pipes)
        HostileJar.Proc p = HostileJar.runMain(List.of(), 60, pr -> pr.toHandle().destroy(), "run", "--scheduler",
                "simple", "--cpus", "2", "--duration", "30s", "--json", json.toString());
        assertEquals(CutShort.EXIT_SIGTERM, p.code(), p.describe());
        assertTrue(p.err().contains("interrupted (SIGTERM)"), p.describe());
        assertEquals("SIGTERM", TinyJson.at(json(), "cut_short.reason"));
        noLeftovers(p);
    }

    /** Defect class 4: a kfunc from the scheduler's thread after the unload never costs the run's JSON. */
    @Test
    void aLateKfuncKeepsTheCompletedRunsResults() throws Exception {
        HostileJar.Proc p = hostile("enqueue", "late-kfunc", List.of("-Dhostile.late_ms=2500"));
        assertNotEquals(Main.EXIT_INTERNAL, p.code(), p.describe());
        assertTrue(Files.exists(dir.resolve("out.json")), "the JSON is written: " + p.describe());
        noLeftovers(p);
    }
}
