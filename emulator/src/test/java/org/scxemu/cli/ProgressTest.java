// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The progress indicator: only on a terminal for long runs, drawn in place and erased cleanly. */
class ProgressTest {
    private static final long S = 1_000_000_000L;

    @Test
    void onlyOnATerminalForLongRunsUnlessDisabled() {
        assertTrue(Progress.wanted(true, false, 10 * S));
        assertTrue(Progress.wanted(true, false, 60 * S));
        assertFalse(Progress.wanted(true, false, 9 * S), "short runs: none");
        assertFalse(Progress.wanted(false, false, 60 * S), "not a terminal: none");
        assertFalse(Progress.wanted(true, true, 60 * S), "--no-progress");
        assertFalse(Main.terminal, "in-process runs are never on a terminal");
    }

    @Test
    void barShowsElapsedTotalPercentAndTimeLeft() {
        assertEquals("[..............................] 0s / 60s   0%  60s left", Progress.bar(0, 60 * S));
        assertEquals("[###############...............] 30s / 60s  50%  30s left", Progress.bar(30 * S, 60 * S));
        assertEquals("[##############################] 60s / 60s 100%  0s left", Progress.bar(60 * S, 60 * S));
        assertEquals(Progress.bar(60 * S, 60 * S), Progress.bar(61 * S, 60 * S), "clamped");
    }

    @Test
    void neverReachesTheLastColumnOfANarrowTerminal() {
        assertEquals("[######......] 30s / 60s  50%  30s left", Progress.bar(30 * S, 60 * S, 40));
        for (int cols : new int[] {10, 20, 25, 40, 41, 60, 80, 200}) {
            for (long t : new long[] {10 * S, 60 * S, 86_400 * S}) {
                String b = Progress.bar(t / 3, t, cols);
                assertTrue(b.length() <= cols - 1, cols + " columns: " + b);
            }
        }
        assertEquals(Progress.bar(30 * S, 60 * S), Progress.bar(30 * S, 60 * S, 80), "80 columns: the full bar");
    }

    @Test
    void drawnInPlaceAndErased() {
        StringWriter sw = new StringWriter();
        Progress p = new Progress(new PrintWriter(sw), 20 * S, 80);
        p.clear();
        assertEquals("", sw.toString(), "nothing to erase yet");
        p.show(5 * S);
        assertTrue(sw.toString().startsWith("\r\033[K[#######"), sw.toString());
        assertFalse(sw.toString().contains("\n"), "no newline: redrawn in place");
        p.clear();
        assertTrue(sw.toString().endsWith("\r\033[K"));
        int len = sw.toString().length();
        p.clear();
        assertEquals(len, sw.toString().length(), "erased once");
    }

    /** A run from the CLI in-process (not a terminal) prints no indicator, even with a long duration. */
    @Test
    void noIndicatorWhenNotATerminal() {
        CliRunner.Result r = CliRunner.run("run", "--scheduler", "simple", "--cpus", "1", "--duration", "1200ms");
        assertEquals(0, r.code(), r.describe());
        assertFalse(r.out().contains("\r"), r.describe());
    }
}
