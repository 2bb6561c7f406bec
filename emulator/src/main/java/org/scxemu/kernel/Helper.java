// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.ArrayDeque;

/**
 * The "sched_ext_ops_helper" kthread worker: runs the error irq work (dump) and the disable work
 * in order, on its own platform thread, started on first use. {@link #flush} waits for all work
 * queued so far (kthread_flush_work()). In manual mode (deterministic tests) nothing runs until
 * {@link #flush} is called, and then it runs on the caller's thread.
 *
 * <p>{@code queue} and {@code running} are guarded by {@code this}.
 */
final class Helper {
    private final Ext ext;
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private boolean busy;
    private Thread thread;
    private volatile boolean manual;

    Helper(Ext ext) {
        this.ext = ext;
    }

    /** Deterministic mode: work runs only when flushed, on the flushing thread. */
    void setManual(boolean on) {
        manual = on;
    }

    synchronized void queue(Runnable work) {
        queue.add(work);
        if (!manual && thread == null) {
            thread = new Thread(this::loop, "sched_ext_ops_helper");
            thread.setDaemon(true);
            thread.start();
        }
        notifyAll();
    }

    private void loop() {
        for (;;) {
            Runnable r;
            synchronized (this) {
                while (queue.isEmpty()) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                r = queue.poll();
                busy = true;
            }
            runSafely(r);
            synchronized (this) {
                busy = false;
                notifyAll();
            }
        }
    }

    private void runSafely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException | Error e) {
            ext.klog("BUG: sched_ext_ops_helper: " + e);
            ext.kernel.reportBug(e);
        }
    }

    /** kthread_flush_work(): returns once every queued item has run. */
    void flush() {
        if (manual || Thread.currentThread() == thread) {
            for (;;) {
                Runnable r;
                synchronized (this) {
                    r = queue.poll();
                }
                if (r == null) {
                    return;
                }
                runSafely(r);
            }
        }
        synchronized (this) {
            while (!queue.isEmpty() || busy) {
                try {
                    wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
