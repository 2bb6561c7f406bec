// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.scx.maps;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * {@code BPF_MAP_TYPE_PERCPU_ARRAY} with {@code __type(value, u64)} (or a struct of u64 fields,
 * one key per field): every CPU has its own row of {@code max_entries} values.
 *
 * <p>The BPF helpers and their Java forms:
 * <ul>
 *   <li>{@code bpf_map_lookup_elem(&map, &key)} on the running CPU, then a read or write through
 *       the pointer: {@link #get(int, int)} and {@link #setOpaque(int, int, long)} with the CPU the
 *       op runs on (the owner);
 *   <li>{@code bpf_map_lookup_percpu_elem(&map, &key, cpu)} from another CPU, and user space's
 *       per-CPU lookup: {@link #getOpaque(int, int)}, {@link #sum(int)}.
 * </ul>
 * A key or CPU out of range throws {@link IndexOutOfBoundsException} where BPF's lookup would
 * return NULL; thrown from an op, it ejects the scheduler.
 *
 * <p>Rows are padded apart so that CPUs writing their own rows do not share cache lines.
 *
 * <p>Memory consistency effects: none beyond atomicity. A row is written only by its owning
 * CPU's thread (a plain read-modify-write by that thread is safe); other threads see each value
 * whole but may see it late and in any order relative to other writes, as READ_ONCE() of another
 * CPU's per-CPU data does in the kernel.
 */
public final class PerCpuArray {
    /*
     * Implementation overview: one long[]; row r starts at PAD + r * stride, stride = entries
     * rounded up to a cache line (8 longs) plus one line of padding. Owner writes are opaque
     * (WRITE_ONCE) so that racy readers never see a torn long; owner reads are plain. Racy but
     * benign: readers other than the owner only display or sum the values.
     */

    private static final int LINE_LONGS = 8;

    private final long[] vals;
    private final int nrCpus;
    private final int maxEntries;
    private final int stride;

    /**
     * A per-CPU array for CPUs {@code 0 .. nrCpus-1} (the kernel sizes it by the possible CPUs),
     * {@code maxEntries} u64 values per CPU, all zero.
     */
    public PerCpuArray(int nrCpus, int maxEntries) {
        if (nrCpus < 1 || maxEntries < 1) {
            throw new IllegalArgumentException("nrCpus and maxEntries must be >= 1");
        }
        this.nrCpus = nrCpus;
        this.maxEntries = maxEntries;
        this.stride = ((maxEntries + LINE_LONGS - 1) / LINE_LONGS + 1) * LINE_LONGS;
        this.vals = new long[LINE_LONGS + nrCpus * stride];
    }

    public int nrCpus() {
        return nrCpus;
    }

    public int maxEntries() {
        return maxEntries;
    }

    /** The owning CPU reads its own value: plain. */
    public long get(int cpu, int key) {
        return vals[index(cpu, key)];
    }

    /** The owning CPU writes its own value: opaque (WRITE_ONCE), so racy readers never tear. */
    public void setOpaque(int cpu, int key, long value) {
        VALS.setOpaque(vals, index(cpu, key), value);
    }

    /** Any thread reads any CPU's value: opaque (READ_ONCE); racy, for display and sums. */
    public long getOpaque(int cpu, int key) {
        return (long) VALS.getOpaque(vals, index(cpu, key));
    }

    /** What user space computes from a per-CPU lookup: the sum of {@code key} over every CPU. */
    public long sum(int key) {
        long s = 0;
        for (int cpu = 0; cpu < nrCpus; cpu++) {
            s += getOpaque(cpu, key);
        }
        return s;
    }

    private int index(int cpu, int key) {
        if (cpu < 0 || cpu >= nrCpus) {
            throw new IndexOutOfBoundsException("cpu " + cpu + " of " + nrCpus);
        }
        if (key < 0 || key >= maxEntries) {
            throw new IndexOutOfBoundsException("key " + key + " of " + maxEntries);
        }
        return LINE_LONGS + cpu * stride + key;
    }

    // VarHandle mechanics
    private static final VarHandle VALS = MethodHandles.arrayElementVarHandle(long[].class);
}
