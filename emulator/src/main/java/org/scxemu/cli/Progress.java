// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * The progress indicator of a long run on a terminal: one line, {@code [#####.....]  12s / 60s
 * 20%  48s left}, redrawn in place with a carriage return after each second's stats lines and
 * erased before the next ones and at the end, so the stats lines stay clean. Used only on the
 * harness thread.
 */
final class Progress {
    /** Runs shorter than this get no indicator. */
    static final long MIN_DURATION_NS = 10_000_000_000L;
    static final int WIDTH = 30;
    /** Carriage return and ANSI "erase to end of line". */
    private static final String ERASE = "\r\033[K";

    private final PrintWriter out;
    private final long totalNs;
    private boolean shown;

    Progress(PrintWriter out, long totalNs) {
        this.out = out;
        this.totalNs = totalNs;
    }

    /** Whether a run of {@code durationNs} gets an indicator: on a terminal, and long enough. */
    static boolean wanted(boolean terminal, boolean disabled, long durationNs) {
        return terminal && !disabled && durationNs >= MIN_DURATION_NS;
    }

    /** The indicator's text at {@code elapsedNs} of {@code totalNs}. */
    static String bar(long elapsedNs, long totalNs) {
        long e = Math.max(0, Math.min(elapsedNs, totalNs));
        int filled = totalNs <= 0 ? WIDTH : (int) (WIDTH * (double) e / totalNs);
        StringBuilder sb = new StringBuilder(WIDTH + 48);
        sb.append('[');
        for (int i = 0; i < WIDTH; i++) {
            sb.append(i < filled ? '#' : '.');
        }
        sb.append(']');
        long pct = totalNs <= 0 ? 100 : Math.round(100.0 * e / totalNs);
        sb.append(String.format(Locale.ROOT, " %ds / %ds %3d%%  %ds left", e / 1_000_000_000L,
                totalNs / 1_000_000_000L, pct, (totalNs - e + 999_999_999L) / 1_000_000_000L));
        return sb.toString();
    }

    /** Draws the indicator at {@code elapsedNs}, without a newline. */
    void show(long elapsedNs) {
        out.print(ERASE + bar(elapsedNs, totalNs));
        out.flush();
        shown = true;
    }

    /** Erases the indicator, if it is shown. */
    void clear() {
        if (shown) {
            out.print(ERASE);
            out.flush();
            shown = false;
        }
    }
}
