// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * A platform thread that runs kernel code for one simulated CPU ({@code cpu-N}). The kernel finds
 * its {@link ExecCtx} ({@code current} and this CPU's scratch) through this class without a
 * ThreadLocal lookup.
 */
public final class KThread extends Thread {
    final ExecCtx ctx;

    public KThread(Rq rq, Runnable body) {
        super(body, "cpu-" + rq.cpu);
        this.ctx = rq.ctx;
        setDaemon(true);
    }
}
