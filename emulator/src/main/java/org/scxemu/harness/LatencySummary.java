// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Count, p50, p99, p99.9 and max of a latency histogram, in ns (the JSON summary's
 * {@code latency_ns.wait} and {@code latency_ns.stranded}). Immutable.
 */
public final class LatencySummary {
    public final long count;
    public final long p50;
    public final long p99;
    public final long p999;
    public final long max;

    private LatencySummary(long count, long p50, long p99, long p999, long max) {
        this.count = count;
        this.p50 = p50;
        this.p99 = p99;
        this.p999 = p999;
        this.max = max;
    }

    /** Summarises {@code h}; an empty histogram gives all zeros. */
    public static LatencySummary of(Histogram h) {
        if (h.getTotalCount() == 0) {
            return new LatencySummary(0, 0, 0, 0, 0);
        }
        return new LatencySummary(h.getTotalCount(), h.getValueAtPercentile(50.0), h.getValueAtPercentile(99.0),
                h.getValueAtPercentile(99.9), h.getMaxValue());
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count);
        m.put("p50", p50);
        m.put("p99", p99);
        m.put("p999", p999);
        m.put("max", max);
        return m;
    }
}
