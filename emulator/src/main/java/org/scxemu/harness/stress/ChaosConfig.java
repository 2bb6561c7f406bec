// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.stress;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Which chaos injectors a stress run uses and how often: one weight per injector, 0 = off. The
 * chaos thread picks its next injection among {@code rt}, {@code dl}, {@code stop}, {@code sleep},
 * {@code affinity}, {@code forkexit}, {@code kick} and {@code reload} in proportion to their
 * weights ({@code reload} is further rate-limited, see {@link Chaos}); {@code delay}'s weight scales
 * the fraction of race points at which a CPU thread is delayed.
 *
 * <p>The command-line form ({@link #parse}) is a comma-separated list read left to right from
 * "all off": {@code all} sets every injector to its default weight, {@code none} turns every one
 * off, {@code NAME=W} sets one weight (an integer 0..{@value #MAX_WEIGHT}), and a bare {@code NAME}
 * turns one on with its default weight. So {@code all} (the default), {@code none},
 * {@code rt=2,dl=1,kick=1} and {@code all,reload=0} are all valid.
 *
 * <p>Immutable: safe to share between threads.
 */
public final class ChaosConfig {
    /** The injector names, in the order weights, seeds and counts use. */
    public static final List<String> NAMES = Collections.unmodifiableList(Arrays.asList(
            "rt", "dl", "stop", "sleep", "affinity", "forkexit", "kick", "reload", "delay", "hotplug"));
    /** Indexes into {@link #NAMES}. */
    static final int RT = 0;
    static final int DL = 1;
    static final int STOP = 2;
    static final int SLEEP = 3;
    static final int AFFINITY = 4;
    static final int FORKEXIT = 5;
    static final int KICK = 6;
    static final int RELOAD = 7;
    static final int DELAY = 8;
    /** CPU hotplug: opt-in (weight 0 in {@code all}); see Chaos's injector. */
    static final int HOTPLUG = 9;
    static final int COUNT = 10;

    /** The largest weight a spec may give. */
    public static final int MAX_WEIGHT = 1000;
    /** What {@code all} gives each injector. */
    private static final int[] DEFAULTS = {2, 1, 1, 1, 1, 1, 1, 1, 1, 0};

    private final int[] weights;

    private ChaosConfig(int[] weights) {
        this.weights = weights;
    }

    /** Every injector on with its default weight ({@code all}, the default). */
    public static ChaosConfig all() {
        return new ChaosConfig(DEFAULTS.clone());
    }

    /** Every injector off ({@code none}). */
    public static ChaosConfig none() {
        return new ChaosConfig(new int[COUNT]);
    }

    /**
     * Parses the command-line form (see the class comment); null or blank means {@code all}.
     *
     * @throws IllegalArgumentException naming the bad part and the valid names
     */
    public static ChaosConfig parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return all();
        }
        int[] w = new int[COUNT];
        for (String raw : spec.split(",", -1)) {
            String part = raw.trim();
            if (part.equals("all")) {
                System.arraycopy(DEFAULTS, 0, w, 0, COUNT);
                continue;
            }
            if (part.equals("none")) {
                Arrays.fill(w, 0);
                continue;
            }
            int eq = part.indexOf('=');
            String name = eq < 0 ? part : part.substring(0, eq).trim();
            int i = NAMES.indexOf(name);
            if (i < 0) {
                throw new IllegalArgumentException("bad chaos injector '" + part + "' in '" + spec
                        + "': valid are all, none, or NAME[=WEIGHT] with NAME one of " + String.join(", ", NAMES));
            }
            if (eq < 0) {
                w[i] = DEFAULTS[i];
                continue;
            }
            String value = part.substring(eq + 1).trim();
            int weight;
            try {
                weight = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                weight = -1;
            }
            if (weight < 0 || weight > MAX_WEIGHT) {
                throw new IllegalArgumentException("bad chaos weight '" + part + "' in '" + spec
                        + "': the weight of " + name + " must be an integer 0.." + MAX_WEIGHT);
            }
            w[i] = weight;
        }
        return new ChaosConfig(w);
    }

    /** A copy with {@code name}'s weight set to {@code weight}. */
    public ChaosConfig with(String name, int weight) {
        int i = index(name);
        if (weight < 0 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("the weight of " + name + " must be 0.." + MAX_WEIGHT + ", got "
                    + weight);
        }
        int[] w = weights.clone();
        w[i] = weight;
        return new ChaosConfig(w);
    }

    /** The weight of injector {@code name} (0 = off). */
    public int weight(String name) {
        return weights[index(name)];
    }

    int weight(int i) {
        return weights[i];
    }

    public boolean enabled(String name) {
        return weight(name) > 0;
    }

    /** Whether any injector is on. */
    public boolean anyEnabled() {
        for (int w : weights) {
            if (w > 0) {
                return true;
            }
        }
        return false;
    }

    private static int index(String name) {
        int i = NAMES.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no chaos injector '" + name + "': valid are "
                    + String.join(", ", NAMES));
        }
        return i;
    }

    /** The canonical form, every injector named: {@code rt=2,dl=1,...}; parses back to an equal config. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < COUNT; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(NAMES.get(i)).append('=').append(weights[i]);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChaosConfig && Arrays.equals(weights, ((ChaosConfig) o).weights);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(weights);
    }
}
