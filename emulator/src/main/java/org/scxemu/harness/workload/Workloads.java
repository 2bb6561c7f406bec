// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The built-in workloads by name. {@link #create} makes a fresh instance per run (workloads keep
 * per-run state). Workload files ({@code file:PATH}) are not here: see {@link WorkloadFile}.
 * Immutable after class initialisation, so any thread may read it.
 */
public final class Workloads {
    private static final Map<String, Supplier<Workload>> REGISTRY = new LinkedHashMap<>();

    static {
        REGISTRY.put(CpuBound.NAME, CpuBound::new);
        REGISTRY.put(SleepWake.NAME, SleepWake::new);
        REGISTRY.put(RtPreempt.NAME, RtPreempt::new);
        REGISTRY.put(Hackbench.NAME, Hackbench::new);
        REGISTRY.put(Schbench.NAME, Schbench::new);
        REGISTRY.put(Mixed.NAME, Mixed::new);
        REGISTRY.put(Pair.NAME, Pair::new);
    }

    private Workloads() {
    }

    /** The workload {@code --workload} runs when none is named. */
    public static final String DEFAULT = CpuBound.NAME;

    /** Every built-in workload's name, in {@code list} order. */
    public static List<String> names() {
        return new ArrayList<>(REGISTRY.keySet());
    }

    /** A fresh instance of workload {@code name}, or null if there is none by that name. */
    public static Workload create(String name) {
        Supplier<Workload> s = REGISTRY.get(name);
        return s == null ? null : s.get();
    }
}
