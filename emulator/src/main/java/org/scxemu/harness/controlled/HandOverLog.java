// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.controlled;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The last {@code capacity} hand-overs of a controlled run, as a ring of primitive records: step
 * number, simulated time, the thread that handed over, the point where it did, and the thread
 * that got the machine. Older records are overwritten and counted in {@link #dropped}.
 *
 * <p>Written by the controller's driver thread only, and read by it (or by the thread that called
 * {@code Controller.stop()}, after it returned).
 */
public final class HandOverLog {
    private final String[] names;
    private final int capacity;
    private final long[] step;
    private final long[] timeNs;
    private final short[] from;
    private final short[] to;
    private final byte[] point;
    /** Records ever added. */
    private long total;

    HandOverLog(String[] names, int capacity) {
        this.names = names;
        this.capacity = capacity;
        this.step = new long[capacity];
        this.timeNs = new long[capacity];
        this.from = new short[capacity];
        this.to = new short[capacity];
        this.point = new byte[capacity];
    }

    void add(long s, long t, int fromId, int pt, int toId) {
        int i = (int) (total % capacity);
        step[i] = s;
        timeNs[i] = t;
        from[i] = (short) fromId;
        to[i] = (short) toId;
        point[i] = (byte) pt;
        total++;
    }

    /** Hand-overs recorded so far (kept or not). */
    public long total() {
        return total;
    }

    /** How many are kept: {@code min(total, capacity)}. */
    public int size() {
        return (int) Math.min(total, capacity);
    }

    /** Hand-overs no longer kept (the oldest ones). */
    public long dropped() {
        return total - size();
    }

    private int slot(int k) {
        return (int) ((total - size() + k) % capacity);
    }

    /** The {@code k}-th kept record's step number ({@code k = 0} is the oldest kept). */
    public long step(int k) {
        return step[slot(k)];
    }

    public long timeNs(int k) {
        return timeNs[slot(k)];
    }

    /** The participant that handed over (-1: none, the run's first step). */
    public int from(int k) {
        return from[slot(k)];
    }

    public int to(int k) {
        return to[slot(k)];
    }

    /** The point's name: a {@link org.scxemu.kernel.RacePoint} name or one of the controller's own. */
    public String pointName(int k) {
        return Controller.pointName(point[slot(k)]);
    }

    public String fromName(int k) {
        int f = from(k);
        return f < 0 ? "-" : names[f];
    }

    public String toName(int k) {
        return names[to(k)];
    }

    /** One record as a line: {@code #STEP TIMEns FROM @POINT -> TO}. */
    public String line(int k) {
        return String.format(Locale.ROOT, "#%d %dns %s @%s -> %s", step(k), timeNs(k), fromName(k), pointName(k),
                toName(k));
    }

    /** The last {@code n} kept records up to step {@code uptoStep} (inclusive) as lines, oldest first. */
    public List<String> lastLines(int n, long uptoStep) {
        int end = size();
        while (end > 0 && step(end - 1) > uptoStep) {
            end--;
        }
        List<String> out = new ArrayList<>();
        for (int k = Math.max(0, end - n); k < end; k++) {
            out.add(line(k));
        }
        return out;
    }

    /** The last {@code n} kept records as lines, oldest first. */
    public List<String> lastLines(int n) {
        int size = size();
        List<String> out = new ArrayList<>();
        for (int k = Math.max(0, size - n); k < size; k++) {
            out.add(line(k));
        }
        return out;
    }
}
