// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.scx.Scx.SCX_EXIT_ERROR_BPF;
import static org.scxemu.scx.Scx.SCX_EXIT_NONE;

/**
 * Faults of a scheduler's code outside its ops: an exception on a thread the scheduler started
 * (a BPF scheduler has no threads; a Java one may). Such a fault is the scheduler's, never
 * scx-emu's: while the scheduler is loaded it is ejected with {@code SCX_EXIT_ERROR_BPF} naming
 * the thread and the scheduler's line; after it was unloaded the fault is remembered
 * ({@link #lateFault()}) so the command can still say so and exit 1, with its results kept.
 *
 * <p>Any thread; {@code lateFault} is volatile (last writer wins, any is worth reporting).
 */
public final class UserFaults {
    private static volatile String lateFault;

    private UserFaults() {
    }

    /**
     * Whether {@code e}, uncaught on {@code t}, was thrown by a scheduler's own code (its stack has
     * a frame outside the JDK and scx-emu); then it has been reported as the scheduler's fault.
     */
    public static boolean blameUncaught(Thread t, Throwable e) {
        String frame = ExtLifecycle.userFrame(e);
        if (frame.isEmpty()) {
            return false;
        }
        String what = "thread " + t.getName() + ", started by the scheduler, threw " + e + frame;
        Kernel k = Ext.activeKernel();
        Ext ext = k == null ? null : k.ext;
        if (ext != null && ext.exitKind.get() == SCX_EXIT_NONE) {
            ext.scxOpsExitKind(SCX_EXIT_ERROR_BPF, 0, ExtLifecycle.backtrace(e), "%s", what);
            return true;
        }
        if (ext != null && ExtLifecycle.blameAfterExit(ext, "thread " + t.getName(), e, ExtLifecycle.backtrace(e))) {
            return true;
        }
        lateFault = what;
        return true;
    }

    /** A fault of the scheduler's threads seen after it was unloaded, or null. */
    public static String lateFault() {
        return lateFault;
    }

    /** Forgets a late fault (one command run ends). */
    public static void clearLateFault() {
        lateFault = null;
    }
}
