// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scxemu.harness.TinyJson;

/**
 * Defect class 3: busy time is counted inside the run's window only (not from the machine's start,
 * forks included, to the CPUs' stop), never more than the window on any CPU nor more than cpus x
 * duration in all, and the running task's time counts up to the end, so a CPU that runs one task
 * all along is busy, not idle.
 */
class BusyTimeTest {
    @TempDir
    Path dir;

    private static long[] busy(Object j) {
        List<?> cpus = (List<?>) TinyJson.at(j, "per_cpu");
        long[] b = new long[cpus.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = TinyJson.num(j, "per_cpu." + i + ".busy_ns");
        }
        return b;
    }

    @Test
    void busyTimeStaysInsideTheRunsWindow() throws Exception {
        Path json = dir.resolve("b.json");
        CliRunner.Result r = CliRunner.run("run", "--scheduler", "simple", "--cpus", "4", "--workload", "hackbench",
                "--duration", "1s", "--json", json.toString());
        assertEquals(0, r.code(), r.describe());
        Object j = TinyJson.parse(Files.readString(json));
        long dur = TinyJson.num(j, "duration_ns");
        long sum = 0;
        for (long b : busy(j)) {
            assertTrue(b >= 0 && b <= dur, "a CPU's busy time " + b + " within the run's " + dur);
            sum += b;
        }
        assertTrue(sum <= 4 * dur, "sum " + sum + " <= cpus x duration " + 4 * dur);
    }

    @Test
    void aCpuRunningOneTaskAllAlongIsBusy() throws Exception {
        Path wl = dir.resolve("one.json");
        Files.writeString(wl, "{\"tasks\": [{\"name\": \"spin\", \"cpus\": [1], \"phases\": [{\"run_ns\": "
                + "60000000000}]}]}\n");
        Path json = dir.resolve("one-out.json");
        CliRunner.Result r = CliRunner.run("run", "--scheduler", "simple", "--cpus", "2", "--workload",
                "file:" + wl, "--duration", "1s", "--json", json.toString());
        assertEquals(0, r.code(), r.describe());
        Object j = TinyJson.parse(Files.readString(json));
        long dur = TinyJson.num(j, "duration_ns");
        long[] b = busy(j);
        assertTrue(b[1] >= dur * 8 / 10, "CPU 1 ran its task all along: busy " + b[1] + " of " + dur);
        assertTrue(b[1] <= dur, "and no more than the run");
    }
}
