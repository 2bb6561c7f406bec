// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.util.Map;
import org.scxemu.kernel.Kernel;

/**
 * A named, seeded, parameterised workload: the tasks a run forks and what they do.
 *
 * <p>Life cycle: a fresh instance per run. The harness loads the scheduler, starts the CPU
 * threads, then calls {@link #start} once on its controlling thread; the workload forks its tasks
 * there (with {@link Kernel#fork}) and returns. From then on the tasks' {@link
 * org.scxemu.kernel.Behavior}s run on the CPU threads. {@link #report} is called once, after the
 * CPU threads have been stopped and joined, so it may read whatever the behaviours wrote without
 * further synchronisation (the joins order those writes before the read).
 *
 * <p>Every random choice derives from the seed through {@link java.util.SplittableRandom}: one
 * root generator per run, one {@code split()} per task in fork order, so the same seed gives the
 * same pattern (the interleaving on real threads still varies from run to run).
 */
public interface Workload {
    /** The name {@code --workload} takes: lower case, words joined by '-'. */
    String name();

    /** One line for {@code scx-emu list}. */
    String description();

    /**
     * Forks the workload's tasks on {@code kernel} (which has {@code cpus} CPUs). Called once, on
     * the harness thread, which holds no kernel lock.
     */
    void start(Kernel kernel, int cpus, long seed);

    /**
     * The workload's own metrics for the JSON summary's {@code workload_metrics} object: values
     * are {@code Long}, {@code Double}, {@code String}, {@code Boolean}, lists or nested maps
     * (what {@link org.scxemu.harness.Json} writes). Called once, after the run.
     */
    default Map<String, Object> report() {
        return Map.of();
    }
}
