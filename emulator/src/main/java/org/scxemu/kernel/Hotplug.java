// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * CPU hotplug as the scheduler sees it (writing {@code /sys/devices/system/cpu/cpuN/online}):
 * {@link #cpuDown} runs core.c's sched_cpu_deactivate() steps (the CPU leaves the active mask,
 * its rq goes offline, sched_ext's scx_rq_deactivate()), {@link #cpuUp} sched_cpu_activate()'s
 * (active again, scx_rq_activate(), the rq back online). sched_ext's part is ext.c's: the hotplug
 * sequence is bumped, and ops.cpu_offline / cpu_online is called, or, for a scheduler without
 * the op, the scheduler is made to exit with {@code SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG}
 * (kind UNREG_KERN), as the kernel does.
 *
 * <p>What the emulator does not model: the CPU thread keeps running (there is no
 * balance_push/sched_cpu_dying): tasks already queued there stay and run there; new wakeups,
 * affinity changes and migrations avoid the CPU (they check {@code rq.online}), and sched_ext's
 * {@code scx_rq_online()} is false, so a dispatch to its local DSQ from elsewhere falls back to
 * the global DSQ.
 *
 * <p>Threads: any thread holding no kernel lock; hotplug operations serialise on {@code
 * cpuHotplugLock} (cpus_write_lock()). {@code rq.online} is volatile, written under that lock and
 * the rq lock. {@code seq} is scx_hotplug_seq (atomic).
 */
public final class Hotplug {
    private final Kernel kernel;
    /** cpu_hotplug_lock, write side. */
    private final ReentrantLock cpuHotplugLock = new ReentrantLock();
    /** scx_hotplug_seq */
    private final AtomicLong seq = new AtomicLong();

    Hotplug(Kernel kernel) {
        this.kernel = kernel;
    }

    /** scx_hotplug_seq (the sysfs file {@code /sys/kernel/sched_ext/hotplug_seq}). */
    public long seq() {
        return seq.get();
    }

    /** cpu_online(cpu) */
    public boolean isOnline(int cpu) {
        return kernel.rqs[cpu].online;
    }

    /**
     * Takes {@code cpu} offline.
     *
     * @return 0 (also when already offline); -EINVAL for a CPU out of range; -EBUSY for the last
     *     online CPU
     */
    public int cpuDown(int cpu) {
        if (cpu < 0 || cpu >= kernel.nrCpus) {
            return -EINVAL;
        }
        cpuHotplugLock.lock();
        try {
            Rq rq = kernel.rqs[cpu];
            if (!rq.online) {
                return 0;
            }
            int online = 0;
            for (Rq r : kernel.rqs) {
                online += r.online ? 1 : 0;
            }
            if (online == 1) {
                return -EBUSY;
            }
            // sched_cpu_deactivate(): set_cpu_active(false), then sched_set_rq_offline()
            rq.lock.lock();
            try {
                rq.online = false;
                rqOfflineScx(rq);
            } finally {
                rq.lock.unlock();
            }
            scxRqDeactivate(rq);
            return 0;
        } finally {
            cpuHotplugLock.unlock();
        }
    }

    /**
     * Brings {@code cpu} back online.
     *
     * @return 0 (also when already online); -EINVAL for a CPU out of range
     */
    public int cpuUp(int cpu) {
        if (cpu < 0 || cpu >= kernel.nrCpus) {
            return -EINVAL;
        }
        cpuHotplugLock.lock();
        try {
            Rq rq = kernel.rqs[cpu];
            if (rq.online) {
                return 0;
            }
            // sched_cpu_activate(): set_cpu_active(true), scx_rq_activate(), sched_set_rq_online()
            scxRqActivate(rq);
            rq.lock.lock();
            try {
                rq.online = true;
                rqOnlineScx(rq);
            } finally {
                rq.lock.unlock();
            }
            return 0;
        } finally {
            cpuHotplugLock.unlock();
        }
    }

    /** ext.c: rq_online_scx(); rq lock held. */
    private static void rqOnlineScx(Rq rq) {
        rq.assertHeld();
        rq.scx.flags |= SCX_RQ_ONLINE;
    }

    /** ext.c: rq_offline_scx(); rq lock held. */
    private static void rqOfflineScx(Rq rq) {
        rq.assertHeld();
        rq.scx.flags &= ~SCX_RQ_ONLINE;
    }

    /** ext.c: scx_rq_activate() */
    private void scxRqActivate(Rq rq) {
        handleHotplug(rq, true);
    }

    /** ext.c: scx_rq_deactivate() */
    private void scxRqDeactivate(Rq rq) {
        handleHotplug(rq, false);
    }

    /** ext.c: handle_hotplug() */
    private void handleHotplug(Rq rq, boolean online) {
        int cpu = rq.cpu;
        seq.incrementAndGet();
        Ext ext = kernel.ext;
        if (online && ScxKeys.HAS_CPU_ONLINE.enabled()) {
            ext.callSlowOp(ScxOp.CPU_ONLINE, ext.unlockedMask(), null, null, 0, o -> {
                o.cpuOnline(cpu);
                return 0;
            });
        } else if (!online && ScxKeys.HAS_CPU_OFFLINE.enabled()) {
            ext.callSlowOp(ScxOp.CPU_OFFLINE, ext.unlockedMask(), null, null, 0, o -> {
                o.cpuOffline(cpu);
                return 0;
            });
        } else {
            // scx_ops_exit(): with no scheduler loaded the exit kind is DONE and the
            // first-exit-wins exchange refuses this, as in the kernel
            ext.scxOpsExitKind(SCX_EXIT_UNREG_KERN, SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG, null,
                    "cpu %d going %s, exiting scheduler", cpu, online ? "online" : "offline");
        }
    }

    /**
     * ext.c: check_hotplug_seq(), in scx_ops_enable() right after ops.init(): a scheduler that
     * gave a hotplug sequence which is no longer current is told to restart.
     */
    void checkHotplugSeq(long opsSeq) {
        if (opsSeq != 0) {
            long global = seq.get();
            if (opsSeq != global) {
                kernel.ext.scxOpsExitKind(SCX_EXIT_UNREG_KERN, SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG,
                        null, "expected hotplug seq %llu did not match actual %llu", opsSeq, global);
            }
        }
    }
}
