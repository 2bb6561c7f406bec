// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import java.io.File;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

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

    /** The width assumed when the terminal's cannot be read. */
    static final int DEFAULT_COLUMNS = 80;

    private final PrintWriter out;
    private final long totalNs;
    /** The terminal's width: a line reaching its last column would wrap, and "\r" then "erase to
     * end of line" would clear only the wrapped part, leaving fragments of the old line above. */
    private final int columns;
    private boolean shown;

    Progress(PrintWriter out, long totalNs) {
        this(out, totalNs, terminalColumns());
    }

    Progress(PrintWriter out, long totalNs, int columns) {
        this.out = out;
        this.totalNs = totalNs;
        this.columns = columns;
    }

    /**
     * The controlling terminal's width: {@code $COLUMNS} when exported, else {@code stty size} on
     * /dev/tty (asked once per run, bounded to half a second), else {@link #DEFAULT_COLUMNS}.
     */
    static int terminalColumns() {
        try {
            String env = System.getenv("COLUMNS");
            if (env != null && env.matches("[0-9]{1,4}") && Integer.parseInt(env) > 0) {
                return Integer.parseInt(env);
            }
            File tty = new File("/dev/tty");
            if (tty.canRead()) {
                Process pr = new ProcessBuilder("stty", "size").redirectInput(tty)
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                if (pr.waitFor(500, TimeUnit.MILLISECONDS)) {
                    String[] rc = new String(pr.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim()
                            .split("\\s+");
                    if (rc.length == 2 && rc[1].matches("[0-9]{1,4}") && Integer.parseInt(rc[1]) > 0) {
                        return Integer.parseInt(rc[1]);
                    }
                } else {
                    pr.destroyForcibly();
                }
            }
        } catch (Exception e) {
            // no terminal to ask: keep the default
        }
        return DEFAULT_COLUMNS;
    }

    /** Whether a run of {@code durationNs} gets an indicator: on a terminal, and long enough. */
    static boolean wanted(boolean terminal, boolean disabled, long durationNs) {
        return terminal && !disabled && durationNs >= MIN_DURATION_NS;
    }

    /** The indicator's text at {@code elapsedNs} of {@code totalNs}, for an 80-column terminal. */
    static String bar(long elapsedNs, long totalNs) {
        return bar(elapsedNs, totalNs, DEFAULT_COLUMNS);
    }

    /**
     * The indicator's text for a terminal {@code columns} wide: it never reaches the last column
     * (the bar narrows first, then the text is cut), so it cannot wrap.
     */
    static String bar(long elapsedNs, long totalNs, int columns) {
        long e = Math.max(0, Math.min(elapsedNs, totalNs));
        long pct = totalNs <= 0 ? 100 : Math.round(100.0 * e / totalNs);
        String text = String.format(Locale.ROOT, " %ds / %ds %3d%%  %ds left", e / 1_000_000_000L,
                totalNs / 1_000_000_000L, pct, (totalNs - e + 999_999_999L) / 1_000_000_000L);
        int room = columns - 1;
        int width = Math.max(0, Math.min(WIDTH, room - 2 - text.length()));
        int filled = totalNs <= 0 ? width : (int) (width * (double) e / totalNs);
        StringBuilder sb = new StringBuilder(width + text.length() + 2);
        if (width > 0) {
            sb.append('[');
            for (int i = 0; i < width; i++) {
                sb.append(i < filled ? '#' : '.');
            }
            sb.append(']');
            sb.append(text);
        } else {
            sb.append(text, 1, text.length());
        }
        return sb.length() > room ? sb.substring(0, Math.max(0, room)) : sb.toString();
    }

    /** Draws the indicator at {@code elapsedNs}, without a newline. */
    void show(long elapsedNs) {
        out.print(ERASE + bar(elapsedNs, totalNs, columns));
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
