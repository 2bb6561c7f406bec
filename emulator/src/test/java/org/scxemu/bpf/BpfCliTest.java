// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scxemu.cli.Main;

/**
 * {@code --scheduler bpf:FILE} end to end through the real CLI: a run to UNREG with the object's
 * stats lines, --bpf-set reaching a .rodata global, a malformed object and a bad --bpf-set refused
 * with one {@code scx-emu:} line and exit 2, an ejection with exit 1 and the UEI_REPORT-style
 * line, stress with 0 violations, and a controlled run that repeats byte for byte.
 */
class BpfCliTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
        String describe() {
            return "exit " + code + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
        }
    }

    static Result cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.execute(o, e, args);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String fixture(String n) {
        return "bpf:" + BpfFixtures.obj(n);
    }

    @Test
    void runsToUnregWithStatsLines() {
        Result r = cli("run", "--scheduler", fixture("vtime"), "--cpus", "4", "--workload", "mixed", "--duration",
                "1500ms", "--kernel", "6.12", "--no-progress");
        assertEquals(Main.EXIT_OK, r.code(), r.describe());
        assertTrue(r.out().contains("\nvtime: dispatched="), r.describe());
        assertTrue(r.out().contains("exit UNREG (unregistered from user space)"), r.describe());
    }

    @Test
    void bpfSetReachesTheObject() {
        Result r = cli("run", "--scheduler", fixture("exit_bstr"), "--bpf-set", "exit_after=3", "--cpus", "2",
                "--workload", "mixed", "--duration", "5s", "--no-progress");
        assertEquals(Main.EXIT_EJECTED, r.code(), r.describe());
        assertTrue(r.err().contains("EXIT: unregistered from BPF (exit_bstr: 3 enqueues, last pid "), r.describe());
    }

    @Test
    void badObjectsAndSetsAreUsageErrors() throws Exception {
        Path junk = tmp.resolve("junk.bpf.o");
        Files.writeString(junk, "not an object");
        String[][] cases = {
            {"bpf:" + junk, null, junk + ": not an ELF file"},
            {fixture("bad_kfunc"), null, "calls kfunc scx_bpf_no_such_kfunc, which the emulator does not provide"},
            {fixture("fifo"), "nope=1", "--bpf-set nope: fifo.bpf.o has no global variable nope"},
            {fixture("fifo"), "slice_ns", "--bpf-set slice_ns: expected NAME=VALUE"},
        };
        for (String[] c : cases) {
            Result r = c[1] == null ? cli("run", "--scheduler", c[0], "--duration", "1s")
                    : cli("run", "--scheduler", c[0], "--bpf-set", c[1], "--duration", "1s");
            assertEquals(Main.EXIT_USAGE, r.code(), r.describe());
            assertEquals(1, r.err().strip().split("\n").length, r.describe());
            assertTrue(r.err().startsWith("scx-emu: ") && r.err().strip().endsWith(c[2]), r.describe());
            assertEquals("", r.out(), r.describe());
        }
        Result r = cli("run", "--scheduler", "simple", "--bpf-set", "x=1", "--duration", "1s");
        assertEquals(Main.EXIT_USAGE, r.code(), r.describe());
        assertTrue(r.err().startsWith("scx-emu: --bpf-set: only for --scheduler bpf:FILE"), r.describe());
    }

    @Test
    void aFaultEjectsWithTheSourceLine() {
        Result r = cli("run", "--scheduler", fixture("fault_write"), "--cpus", "2", "--duration", "5s",
                "--no-progress");
        assertEquals(Main.EXIT_EJECTED, r.code(), r.describe());
        assertTrue(r.err().contains("SCX_EXIT_ERROR (runtime error)"), r.describe());
        assertTrue(r.err().contains("EXIT: runtime error (program wr_enqueue: store to task_struct field pid, which BPF"
                + " may not write at insn 2 (fault_write.bpf.c:11: p->pid = 1;))"), r.describe());
        assertTrue(!r.err().contains("\tat "), "a Java stack trace reached the user: " + r.describe());
    }

    @Test
    void stressFindsNoViolationInTheQueueScheduler() {
        Result r = cli("stress", "--scheduler", fixture("queue"), "--cpus", "4", "--chaos", "all", "--duration", "3s",
                "--no-progress");
        assertEquals(Main.EXIT_OK, r.code(), r.describe());
        assertTrue(r.out().contains(" 0 violations"), r.describe());
    }

    @Test
    void controlledRunsRepeatByteForByte() throws Exception {
        byte[][] json = new byte[2][];
        byte[][] trace = new byte[2][];
        for (int i = 0; i < 2; i++) {
            Path j = tmp.resolve("run" + i + ".json");
            Path t = tmp.resolve("trace" + i + ".json");
            Result r = cli("run", "--scheduler", fixture("queue"), "--cpus", "4", "--workload", "rt-preempt",
                    "--duration", "300ms", "--controlled", "--seed", "11", "--json", j.toString(), "--trace",
                    t.toString(), "--no-progress");
            assertEquals(Main.EXIT_OK, r.code(), r.describe());
            json[i] = Files.readAllBytes(j);
            trace[i] = Files.readAllBytes(t);
        }
        assertArrayEquals(json[0], json[1]);
        assertArrayEquals(trace[0], trace[1]);
    }
}
