// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.scxemu.harness.JsonReader;

/**
 * {@code stress --speed} and the exploration rate: a free-running run with a warp clock (the
 * default) or a scaled one runs clean, lives at least as much emulated time as host time (a
 * scale: about {@code speed} times as much), and its JSON and console carry the rates per host
 * second; a controlled run's {@code exploration} section holds only counts, the same for the same
 * seed, unless {@code --rates} asks for the rates; bad values are one-line usage errors.
 */
class StressSpeedTest {
    @TempDir
    Path dir;

    private Map<?, ?> json(String file) throws Exception {
        return (Map<?, ?>) JsonReader.parse(Files.readString(dir.resolve(file)));
    }

    private static long windows(Map<?, ?> j) {
        long n = 0;
        for (Object c : (List<?>) j.get("per_cpu")) {
            n += (Long) ((Map<?, ?>) c).get("release_windows");
        }
        return n;
    }

    /**
     * The scaled row uses simple (the watchdog's 30 s) and a long stall limit: a scale multiplies
     * every host stall of a CPU thread, and a test host may be very busy.
     */
    @ParameterizedTest
    @CsvSource({"auto, warp, 1, qmap, watchdog", "warp, warp, 1, qmap, watchdog", "4, scaled, 4, simple, 600s",
        "1, host, 1, qmap, watchdog"})
    void aCompressedRunIsCleanAndReportsItsRates(String speed, String time, long factor, String scheduler,
            String stallLimit) throws Exception {
        CliRunner.Result r = CliRunner.run("stress", "--scheduler", scheduler, "--cpus", "2", "--workload", "mixed",
                "--duration", "400ms", "--speed", speed, "--stall-limit", stallLimit, "--no-progress", "--json",
                dir.resolve("s.json").toString());
        assertEquals(Main.EXIT_OK, r.code(), r.describe());
        assertTrue(r.out().contains("exploration: "), r.describe());
        assertTrue(r.out().contains(" release windows/s, "), r.describe());
        Map<?, ?> j = json("s.json");
        assertEquals(0L, ((Map<?, ?>) j.get("invariants")).get("violations"));
        Map<?, ?> e = (Map<?, ?>) j.get("exploration");
        assertEquals(time, e.get("time"), e.toString());
        assertEquals(factor, e.get("speed"), e.toString());
        assertEquals(windows(j), e.get("release_windows"), "the per-CPU windows, summed");
        long wall = (Long) e.get("wall_ns");
        long emulated = (Long) e.get("emulated_ns");
        assertTrue(wall >= 400_000_000L, e.toString());
        assertTrue(emulated >= factor * wall * 9 / 10, "at least the host's time, times the scale: " + e);
        assertEquals(factor == 1 && !"warp".equals(time) ? wall : emulated, j.get("duration_ns"),
                "duration_ns is emulated time");
        assertTrue((Long) e.get("race_point_hits") > 0, e.toString());
        assertTrue(e.containsKey("release_windows_per_s") && e.containsKey("race_point_hits_per_s"), e.toString());
        assertFalse(e.containsKey("hand_overs"), "a free-running run has no hand-overs");
        assertEquals("warp".equals(time), e.containsKey("skips"), e.toString());
    }

    @Test
    void aControlledRunCountsTheSameForTheSameSeedAndGivesRatesWhenAsked() throws Exception {
        String[] common = {"stress", "--controlled", "--scheduler", "qmap", "--cpus", "2", "--workload", "mixed",
            "--duration", "200ms", "--seed", "3", "--no-progress", "--json"};
        CliRunner.Result a = CliRunner.run(concat(common, dir.resolve("a.json").toString()));
        CliRunner.Result b = CliRunner.run(concat(common, dir.resolve("b.json").toString()));
        assertEquals(Main.EXIT_OK, a.code(), a.describe());
        assertEquals(a.out(), b.out());
        assertArrayEquals(Files.readAllBytes(dir.resolve("a.json")), Files.readAllBytes(dir.resolve("b.json")));
        Map<?, ?> e = (Map<?, ?>) json("a.json").get("exploration");
        Map<?, ?> ctl = (Map<?, ?>) json("a.json").get("controlled");
        assertEquals(ctl.get("steps"), e.get("steps"));
        assertEquals(ctl.get("hand_overs"), e.get("hand_overs"));
        assertTrue((Long) e.get("race_point_hits") > 0 && (Long) e.get("race_point_hits") <= (Long) e.get("steps"),
                e.toString());
        assertFalse(e.containsKey("wall_ns"), "no host time in a controlled run's JSON: " + e);
        assertTrue(a.out().contains("exploration: "), a.describe());

        CliRunner.Result c = CliRunner.run(concat(common, dir.resolve("c.json").toString(), "--rates"));
        assertEquals(Main.EXIT_OK, c.code(), c.describe());
        Map<?, ?> ec = (Map<?, ?>) json("c.json").get("exploration");
        assertEquals(e.get("hand_overs"), ec.get("hand_overs"), "--rates changes no count");
        assertTrue(ec.containsKey("hand_overs_per_s") && ec.containsKey("wall_ns"), ec.toString());
        assertTrue(c.out().contains(" hand-overs/s"), c.describe());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--speed 0| --speed 0: out of range",
        "--speed fast| --speed fast: not a number",
        "--speed 5 --controlled| only without --controlled",
        "--speed warp --controlled| only without --controlled",
        "--rates| --rates: only with --controlled",
    })
    void badSpeedsAreUsageErrors(String args, String message) {
        String[] base = {"stress", "--scheduler", "simple", "--duration", "10ms"};
        CliRunner.Result r = CliRunner.run(concat(base, args.trim().split(" ")));
        assertEquals(Main.EXIT_USAGE, r.code(), r.describe());
        assertTrue(r.err().contains(message), r.describe());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
