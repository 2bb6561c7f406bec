// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.Arrays;

/**
 * An immutable cpumask (the kernel's {@code const struct cpumask *}), at most 256 CPUs.
 *
 * <p>Immutable, so it may be shared freely between threads once published.
 */
public final class CpuMask {
    private final long[] words;
    private final int weight;

    private CpuMask(long[] words) {
        this.words = words;
        int w = 0;
        for (long word : words) {
            w += Long.bitCount(word);
        }
        this.weight = w;
    }

    /** All CPUs {@code 0 .. nrCpus-1}. */
    public static CpuMask all(int nrCpus) {
        long[] w = new long[(nrCpus + 63) >>> 6];
        for (int cpu = 0; cpu < nrCpus; cpu++) {
            w[cpu >>> 6] |= 1L << cpu;
        }
        return new CpuMask(w);
    }

    /** Exactly the given CPUs. */
    public static CpuMask of(int... cpus) {
        int max = 0;
        for (int c : cpus) {
            if (c < 0 || c >= Kernel.NR_CPUS_MAX) {
                throw new IllegalArgumentException("invalid CPU " + c);
            }
            max = Math.max(max, c);
        }
        long[] w = new long[(max >>> 6) + 1];
        for (int c : cpus) {
            w[c >>> 6] |= 1L << c;
        }
        return new CpuMask(w);
    }

    /** cpumask_and(): the CPUs in both masks. */
    public CpuMask and(CpuMask o) {
        long[] w = new long[Math.min(words.length, o.words.length)];
        for (int i = 0; i < w.length; i++) {
            w[i] = words[i] & o.words[i];
        }
        return new CpuMask(w.length == 0 ? new long[1] : w);
    }

    /** cpumask_test_cpu() */
    public boolean test(int cpu) {
        int i = cpu >>> 6;
        return cpu >= 0 && i < words.length && (words[i] & (1L << cpu)) != 0;
    }

    /** cpumask_weight() */
    public int weight() {
        return weight;
    }

    /** cpumask_first(): the lowest CPU, or -1 if empty. */
    public int first() {
        return next(0);
    }

    /** The lowest CPU &gt;= {@code from}, or -1. */
    public int next(int from) {
        if (from < 0) {
            from = 0;
        }
        for (int i = from >>> 6; i < words.length; i++) {
            long w = words[i];
            if (i == from >>> 6) {
                w &= -1L << from;
            }
            if (w != 0) {
                return (i << 6) + Long.numberOfTrailingZeros(w);
            }
        }
        return -1;
    }

    /** The highest CPU in the mask, or -1. */
    public int last() {
        for (int i = words.length - 1; i >= 0; i--) {
            if (words[i] != 0) {
                return (i << 6) + 63 - Long.numberOfLeadingZeros(words[i]);
            }
        }
        return -1;
    }

    long word(int i) {
        return i < words.length ? words[i] : 0;
    }

    int nrWords() {
        return words.length;
    }

    /** The kernel's {@code %*pb} format: ranges, e.g. {@code 0-3,6}. */
    @Override
    public String toString() {
        return formatRanges(this::test, last() + 1);
    }

    static String formatRanges(java.util.function.IntPredicate set, int limit) {
        StringBuilder sb = new StringBuilder();
        int cpu = 0;
        while (cpu < limit) {
            if (!set.test(cpu)) {
                cpu++;
                continue;
            }
            int start = cpu;
            while (cpu + 1 < limit && set.test(cpu + 1)) {
                cpu++;
            }
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(start);
            if (cpu > start) {
                sb.append('-').append(cpu);
            }
            cpu++;
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CpuMask)) {
            return false;
        }
        CpuMask m = (CpuMask) o;
        int n = Math.max(words.length, m.words.length);
        for (int i = 0; i < n; i++) {
            if (word(i) != m.word(i)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        long[] trimmed = words;
        int n = words.length;
        while (n > 0 && words[n - 1] == 0) {
            n--;
        }
        return Arrays.hashCode(Arrays.copyOf(trimmed, n));
    }
}
