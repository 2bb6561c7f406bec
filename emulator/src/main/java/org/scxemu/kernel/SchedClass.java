// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * The scheduling classes, in the kernel's strict priority order: stop &gt; dl &gt; rt &gt; fair &gt;
 * ext &gt; idle. The ordinal is the position in the linker-ordered class array, so, as in the
 * kernel, a lower value means a higher priority and {@code sched_class_above(a, b)} is
 * {@code a < b}.
 */
public enum SchedClass {
    STOP("stop_sched_class"),
    DL("dl_sched_class"),
    RT("rt_sched_class"),
    FAIR("fair_sched_class"),
    EXT("ext_sched_class"),
    IDLE("idle_sched_class");

    private static final SchedClass[] VALUES = values();

    /** The kernel symbol, as {@code %ps} prints it in the dump. */
    public final String symbol;

    SchedClass(String symbol) {
        this.symbol = symbol;
    }

    /** sched.h: sched_class_above(): true when this class has strictly higher priority. */
    public boolean above(SchedClass other) {
        return ordinal() < other.ordinal();
    }

    static SchedClass of(int ordinal) {
        return VALUES[ordinal];
    }
}
