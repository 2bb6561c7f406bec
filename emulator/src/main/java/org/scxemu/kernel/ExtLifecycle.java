// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.scxemu.scx.SchedExtOps;

/**
 * ext.c's enable and disable paths: scx_ops_enable() and scx_ops_disable_workfn(), and the
 * op-presence detection that stands in for the BPF struct_ops loader.
 */
final class ExtLifecycle {
    private ExtLifecycle() {
    }

    /** Which ops a scheduler implements: a method not inherited from {@link SchedExtOps}. */
    static boolean[] implementedOps(SchedExtOps ops) {
        boolean[] has = new boolean[ScxOp.COUNT];
        for (Method m : SchedExtOps.class.getDeclaredMethods()) {
            ScxOp op = opOf(m.getName());
            if (op == null) {
                continue;
            }
            try {
                Method impl = ops.getClass().getMethod(m.getName(), m.getParameterTypes());
                has[op.ordinal()] = impl.getDeclaringClass() != SchedExtOps.class;
            } catch (NoSuchMethodException e) {
                has[op.ordinal()] = false;
            }
        }
        return has;
    }

    private static ScxOp opOf(String javaName) {
        String k = javaName.replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
        for (ScxOp op : ScxOp.values()) {
            if (op.kname.equals(k)) {
                return op;
            }
        }
        return null;
    }

    /** bpf_scx_init_member()'s name check: a non-empty BPF object name. */
    static boolean validName(String name) {
        if (name == null || name.isEmpty() || name.length() >= SCX_OPS_NAME_LEN) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128) && c != '_' && c != '.') {
                return false;
            }
        }
        return true;
    }

    /**
     * A scheduler fault seen after its exit was already decided: the kernel cannot meet this (a
     * BPF op cannot throw), the emulator must not let it pass silently. A non-error exit (an
     * unload, scx_bpf_exit()) becomes {@code SCX_EXIT_ERROR_BPF} naming {@code what}; an error
     * exit keeps its first cause (as the kernel's first exit wins) and the fault goes to dmesg.
     *
     * @return true if the fault was recorded here, false if no exit was under way
     */
    static boolean blameAfterExit(Ext ext, String what, Throwable t, List<String> bt) {
        int kind = ext.exitKind.get();
        if (kind == SCX_EXIT_NONE) {
            return false;
        }
        String msg = what + " threw " + t + userFrame(t);
        if (kind >= SCX_EXIT_ERROR) {
            ext.klog("sched_ext: after the exit, " + msg);
            return true;
        }
        ExitInfo ei = ext.exitInfo;
        ext.exitKind.set(SCX_EXIT_ERROR_BPF);
        ei.kind = SCX_EXIT_ERROR_BPF;
        ei.reason = ExitInfo.reasonOf(SCX_EXIT_ERROR_BPF);
        ei.msg = msg.length() > SCX_EXIT_MSG_LEN - 1 ? msg.substring(0, SCX_EXIT_MSG_LEN - 1) : msg;
        ei.bt = bt;
        ext.klog("sched_ext: " + msg);
        return true;
    }

    /** {@code t}'s stack as exit backtrace lines. */
    static List<String> backtrace(Throwable t) {
        List<String> bt = new ArrayList<>();
        for (StackTraceElement e : t.getStackTrace()) {
            bt.add(e.toString());
            if (bt.size() >= SCX_EXIT_BT_LEN) {
                break;
            }
        }
        return bt;
    }

    /**
     * Where in the scheduler's own code {@code t} was thrown: " (at Frame)" for the first frame
     * outside the JDK and the emulator, or "" if there is none.
     */
    static String userFrame(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            String c = e.getClassName();
            if (!c.startsWith("java.") && !c.startsWith("jdk.") && !c.startsWith("sun.")
                    && !c.startsWith("org.scxemu.kernel.") && !c.startsWith("org.scxemu.harness.")
                    && !c.startsWith("org.scxemu.scx.")
                    && !c.startsWith("org.scxemu.cli.")) {
                return " (at " + e + ")";
            }
        }
        return "";
    }

    /**
     * ext.c: scx_ops_enable(). Failures before ENABLING return an errno to the attacher. Later
     * ones differ per profile: 6.12 and after report an error, queue the disable and return 0
     * (the attach succeeds and the scheduler is ejected shortly after); the v7 series disables
     * with {@code SCX_EXIT_ERROR}, waits for the disable to finish and refuses the load with the
     * errno (its err_disable label): a failing ops.init(), validate_ops() (-EINVAL) and a failing
     * load-time ops.init_task().
     */
    static int scxOpsEnable(Ext ext, SchedExtOps ops) {
        boolean[] refused = new boolean[1];
        int ret = scxOpsEnableBody(ext, ops, refused);
        if (refused[0]) {
            // v7: "must be fully disabled before returning", outside the enable mutex
            ext.awaitDisabled();
        }
        return ret;
    }

    /**
     * v7's err_disable: scx_ops_disable(SCX_EXIT_ERROR) (first exit wins, so an error already
     * reported keeps its message) and the errno back to the attacher.
     */
    private static int v7Refuse(Ext ext, int ret, boolean[] refused) {
        ext.scxOpsExitKind(SCX_EXIT_ERROR, 0, null, null);
        refused[0] = true;
        return ret;
    }

    private static int scxOpsEnableBody(Ext ext, SchedExtOps ops, boolean[] refused) {
        boolean v7 = ext.kernel.profile() == CoreProfile.V7;
        Kernel kernel = ext.kernel;
        // bpf_scx_init_member() / bpf_scx_check_member()
        String name;
        long flags;
        int maxBatch;
        int timeoutMs;
        int dumpLen;
        String member = "name";
        try {
            name = ops.name();
            member = "flags";
            flags = ops.flags();
            member = "dispatch_max_batch";
            maxBatch = ops.dispatchMaxBatch();
            member = "timeout_ms";
            timeoutMs = ops.timeoutMs();
            member = "exit_dump_len";
            dumpLen = ops.exitDumpLen();
        } catch (Throwable e) {
            ext.klog("sched_ext: cannot read ops." + member + ": the scheduler's method threw " + e
                    + userFrame(e));
            return -EINVAL;
        }
        int unmodelled = ProfileScope.refuseUnmodelled(ext, ext.kernel.profile(), flags);
        if (unmodelled != 0) {
            return unmodelled;
        }
        long allFlags = SCX_OPS_ALL_FLAGS | (ExtCgroup.groupSched(kernel) ? SCX_OPS_HAS_CGROUP_WEIGHT : 0);
        String bad = null;
        if (!validName(name)) {
            bad = "ops.name " + (name == null ? "is null" : "\"" + Printable.escape(name, 80) + "\" is invalid")
                    + ": 1.." + (SCX_OPS_NAME_LEN - 1) + " characters, letters, digits, '_' and '.' only";
        } else if ((flags & ~allFlags) != 0) {
            bad = "ops.flags 0x" + Long.toHexString(flags) + " has unknown bits 0x"
                    + Long.toHexString(flags & ~allFlags);
        } else if (maxBatch < 0) {
            bad = "ops.dispatch_max_batch " + maxBatch + " is negative";
        } else if (timeoutMs < 0) {
            bad = "ops.timeout_ms " + timeoutMs + " is negative";
        } else if (dumpLen < 0) {
            bad = "ops.exit_dump_len " + dumpLen + " is negative";
        }
        if (bad != null) {
            ext.klog("sched_ext: " + bad);
            return -EINVAL;
        }
        if ((long) timeoutMs * 1_000_000L > SCX_WATCHDOG_MAX_TIMEOUT_NS) {
            ext.klog("sched_ext: ops.timeout_ms " + timeoutMs + " is too big: at most "
                    + SCX_WATCHDOG_MAX_TIMEOUT_NS / 1_000_000L + " (SCX_WATCHDOG_MAX_TIMEOUT)");
            return -E2BIG;
        }

        ext.enableMutex.lock();
        boolean enabling = false;
        try {
            if (!ext.claimActive()) {
                return -EBUSY;
            }
            if (ext.enableState.get() != Ext.SCX_OPS_DISABLED) {
                ext.releaseActive();
                return -EBUSY;
            }
            ext.exitInfo = new ExitInfo();
            ext.ops = ops;
            ext.opsFlags = flags;
            ext.dispatchMaxBatch = maxBatch == 0 ? SCX_DSP_DFL_MAX_BATCH : maxBatch;
            ext.watchdogTimeoutNs = timeoutMs == 0 ? SCX_WATCHDOG_MAX_TIMEOUT_NS : timeoutMs * 1_000_000L;
            ext.exitDumpLen = dumpLen == 0 ? SCX_EXIT_DUMP_DFL_LEN : dumpLen;
            ext.enableState.set(Ext.SCX_OPS_ENABLING);
            enabling = true;
            ext.exitKind.set(SCX_EXIT_NONE);
            ext.warnedZeroSlice = false;
            ext.nrRejected.set(0);
            for (Rq rq : ext.kernel.rqs) {
                rq.scx.cpuperfTarget = SCX_CPUPERF_ONE;
            }
            boolean[] has = implementedOps(ops);

            // ops.init() (SCX_KF_SLEEPABLE)
            if (has[ScxOp.INIT.ordinal()]) {
                ScxKeys.HAS_INIT.enable();
                ExecCtx ctx = ExecCtx.current(kernel);
                ctx.opCalls[ScxOp.INIT.ordinal()]++;
                ctx.kfMask |= SCX_KF_SLEEPABLE;
                int ret;
                ctx.opEnter(ScxOp.INIT.ordinal()); // OpWatch times ops.init() too
                try {
                    ret = ops.init();
                } catch (Throwable e) { // an Error too (NoClassDefFoundError...): the scheduler's fault
                    ext.scxOpsExitKind(SCX_EXIT_ERROR_BPF, 0, backtrace(e), "ops.init() threw %s%s", e, userFrame(e));
                    ret = 0;
                } finally {
                    ctx.opExit();
                    ctx.kfMask &= ~SCX_KF_SLEEPABLE;
                }
                if (ret != 0) {
                    ret = ext.opsSanitizeErr("init", ret);
                    if (v7) {
                        return v7Refuse(ext, ret, refused);
                    }
                    ext.scxOpsError("ops.init() failed (%d)", ret);
                    return 0;
                }
            }
            // hotplug ops are switched on right after ops.init()
            setKey(has, ScxOp.CPU_ONLINE);
            setKey(has, ScxOp.CPU_OFFLINE);
            kernel.hotplug.checkHotplugSeq(hotplugSeqOf(ops));

            // validate_ops()
            if ((flags & SCX_OPS_ENQ_LAST) != 0 && !has[ScxOp.ENQUEUE.ordinal()]) {
                ext.scxOpsError("SCX_OPS_ENQ_LAST requires ops.enqueue() to be implemented");
                return v7 ? v7Refuse(ext, -EINVAL, refused) : 0;
            }

            for (Rq rq : kernel.rqs) {
                Rq.ScxRq sx = rq.scx;
                sx.dspTask = new Task[ext.dispatchMaxBatch];
                sx.dspQseq = new long[ext.dispatchMaxBatch];
                sx.dspDsqId = new long[ext.dispatchMaxBatch];
                sx.dspEnqFlags = new long[ext.dispatchMaxBatch];
                sx.dspCursor = 0;
                sx.dspNrTasks = 0;
            }
            ext.watchdogTimestamp = kernel.now();

            // Once the normal op keys are on, the BPF scheduler may be called; do it in bypass.
            ext.scxOpsBypass(true);
            try {
                for (ScxOp op : ScxOp.values()) {
                    if (op != ScxOp.INIT && op != ScxOp.CPU_ONLINE && op != ScxOp.CPU_OFFLINE) {
                        setKey(has, op);
                    }
                }
                ScxKeys.SCX_OPS_ENQ_LAST.set((flags & SCX_OPS_ENQ_LAST) != 0);
                ScxKeys.SCX_OPS_ENQ_EXITING.set((flags & SCX_OPS_ENQ_EXITING) != 0);
                // the seed: if (scx_ops.cpu_acquire || scx_ops.cpu_release)
                if (has[ScxOp.CPU_ACQUIRE.ordinal()] || has[ScxOp.CPU_RELEASE.ordinal()]) {
                    ScxKeys.SCX_OPS_CPU_PREEMPT.enable();
                    ext.opsFlags |= SCX_OPS_HAS_CPU_PREEMPT;
                    if (ext.kernel.profile() == CoreProfile.V6_19) {
                        // ext.c (6.19): pr_warn() in validate_ops()
                        ext.klog("ops->cpu_acquire/release() are deprecated, use sched_switch TP instead");
                    }
                }
                if (!has[ScxOp.UPDATE_IDLE.ordinal()] || (flags & SCX_OPS_KEEP_BUILTIN_IDLE) != 0) {
                    ext.idle.resetIdleMasks();
                    ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enable();
                } else {
                    ScxKeys.SCX_BUILTIN_IDLE_ENABLED.disable();
                }

                // Initialise every existing task with the fork path locked out.
                kernel.forkRwsem.writeLock().lock();
                try {
                    if (!ext.cgroup.lockAndInit()) {
                        return 0;
                    }
                    ext.initTaskEnabled = true;
                    for (Task p : kernel.tasks()) {
                        if (p.isDead()) {
                            continue;
                        }
                        int ret = ext.scxOpsInitTask(p, false);
                        if (ret != 0) {
                            if (v7) {
                                ext.klog(String.format(
                                        "sched_ext: ops.init_task() failed (%d) for %s[%d] while loading",
                                        ret, p.comm, p.pid));
                                return v7Refuse(ext, ret, refused);
                            }
                            ext.scxOpsError("ops.init_task() failed (%d) for %s[%d]", ret, p.comm, p.pid);
                            return 0;
                        }
                        Rq rq = kernel.taskRqLock(p);
                        try {
                            if (p.scx.freed && p.scx.taskState() == SCX_TASK_NONE) {
                                // The task died after init_task returned: its final put saw INIT
                                // and already sent exit_task (cancelled). Nothing is left to do.
                                // (The kernel holds a task reference across init_task, so there
                                // the put always comes later; here the put can win the race.)
                                continue;
                            }
                            ext.scxSetTaskStateReady(p);
                            // The task died before init_task set INIT: its final put passed in
                            // state NONE and sent nothing, so exit it here as that put would.
                            if (p.scx.freed) {
                                ext.scxOpsExitTask(p);
                            }
                        } finally {
                            kernel.taskRqUnlock(rq, p);
                        }
                    }
                    // All tasks are READY: switch them over.
                    ext.switchingAll = (flags & SCX_OPS_SWITCH_PARTIAL) == 0;
                    ScxKeys.SCX_OPS_ENABLED.enable();
                    for (Task p : kernel.tasks()) {
                        if (p.isDead()) {
                            continue;
                        }
                        Rq rq = kernel.taskRqLock(p);
                        try {
                            if (p.scx.freed) {
                                continue;
                            }
                            p.scx.slice = SCX_SLICE_DFL;
                            kernel.changeClass(rq, p, kernel.classFor(p));
                        } finally {
                            kernel.taskRqUnlock(rq, p);
                        }
                    }
                } finally {
                    ext.cgroup.unlock();
                    kernel.forkRwsem.writeLock().unlock();
                }
            } finally {
                ext.scxOpsBypass(false);
            }
            if (!ext.enableState.compareAndSet(Ext.SCX_OPS_ENABLING, Ext.SCX_OPS_ENABLED)) {
                ext.scxOpsError("scx_ops_enable() failed (%d)", -EBUSY);
                return 0;
            }
            if ((flags & SCX_OPS_SWITCH_PARTIAL) == 0) {
                ScxKeys.SCX_SWITCHED_ALL.enable();
            }
            ext.klog(String.format("sched_ext: BPF scheduler \"%s\" enabled%s", name,
                    (flags & SCX_OPS_SWITCH_PARTIAL) != 0 ? " (partial)" : ""));
            enabling = false;
            return 0;
        } finally {
            ext.enableMutex.unlock();
            if (enabling && ext.enableState.get() == Ext.SCX_OPS_ENABLING && ext.exitKind.get() == SCX_EXIT_NONE) {
                ext.scxOpsError("scx_ops_enable() failed (%d)", -EINVAL);
            }
        }
    }

    /** ops.hotplug_seq, read like the other ops fields (a throwing getter reads as 0). */
    private static long hotplugSeqOf(SchedExtOps ops) {
        try {
            return ops.hotplugSeq();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private static void setKey(boolean[] has, ScxOp op) {
        ScxKeys.hasOp(op).set(has[op.ordinal()]);
    }

    /**
     * ext.c: scx_ops_disable_workfn(): bypass, every task back to fair with exit_task, keys off,
     * the report, ops.exit(), user DSQs destroyed, state DISABLED.
     */
    static void scxOpsDisableWorkfn(Ext ext) {
        Kernel kernel = ext.kernel;
        int kind;
        do {
            kind = ext.exitKind.get();
            if (kind == SCX_EXIT_NONE || kind == SCX_EXIT_DONE) {
                return;
            }
        } while (!ext.exitKind.compareAndSet(kind, SCX_EXIT_DONE));
        ExitInfo ei = ext.exitInfo;
        ei.kind = kind;
        ei.reason = ExitInfo.reasonOf(kind);

        // guarantee forward progress by bypassing scx_ops
        ext.scxOpsBypass(true);
        int prevState = ext.enableState.getAndSet(Ext.SCX_OPS_DISABLING);
        if (prevState == Ext.SCX_OPS_DISABLED) {
            ext.klog(String.format("sched_ext: ops error detected without ops (%s)", ei.msg));
            ext.enableState.set(Ext.SCX_OPS_DISABLED);
            ext.scxOpsBypass(false);
            return;
        }
        ext.enableMutex.lock();
        try {
            ScxKeys.SCX_SWITCHED_ALL.disable();
            ext.switchingAll = false;
            ext.cgroup.lockAndExit();
            kernel.forkRwsem.writeLock().lock();
            try {
                ext.initTaskEnabled = false;
                for (Task p : kernel.tasks()) {
                    Rq rq = kernel.taskRqLock(p);
                    try {
                        if (p.scx.freed) {
                            continue;
                        }
                        if (p.schedClass == SchedClass.EXT || p.scx.taskState() != SCX_TASK_NONE) {
                            kernel.changeClass(rq, p, kernel.classFor(p));
                            ext.scxOpsExitTask(p);
                        }
                    } finally {
                        kernel.taskRqUnlock(rq, p);
                    }
                }
            } finally {
                kernel.forkRwsem.writeLock().unlock();
            }
            // every task has left ext: disable the static keys, draining calls still in flight
            for (StaticKey k : ScxKeys.all()) {
                k.disable();
            }
            ext.opsFlags = 0;
            String name = ext.ops.name();
            if (ei.kind >= SCX_EXIT_ERROR) {
                ext.klog(String.format("sched_ext: BPF scheduler \"%s\" disabled (%s)", name, ei.reason));
                if (!ei.msg.isEmpty()) {
                    ext.klog(String.format("sched_ext: %s: %s", name, ei.msg));
                }
            } else {
                ext.klog(String.format("sched_ext: BPF scheduler \"%s\" disabled (%s)", name, ei.reason));
            }
            kernel.tracer.scx_exit(kernel.now(), ei);
            ext.cancelBpfTimers();
            boolean[] has = implementedOps(ext.ops);
            if (has[ScxOp.EXIT.ordinal()]) {
                ExecCtx ctx = ExecCtx.current(kernel);
                ctx.opCalls[ScxOp.EXIT.ordinal()]++;
                ctx.opEnter(ScxOp.EXIT.ordinal());
                try {
                    ext.ops.exit(ei);
                } catch (Throwable e) {
                    ext.klog("sched_ext: ops.exit() threw " + e + userFrame(e));
                    blameAfterExit(ext, "ops.exit()", e, backtrace(e));
                } finally {
                    ctx.opExit();
                }
            }
            // destroy all user DSQs
            List<Long> ids = new ArrayList<>(ext.dsqHash.keySet());
            for (Long id : ids) {
                Dsq d = ext.dsqHash.remove(id);
                if (d != null) {
                    d.lock.lock();
                    try {
                        d.setId(SCX_DSQ_INVALID);
                    } finally {
                        d.lock.unlock();
                    }
                }
            }
            ext.enableState.set(Ext.SCX_OPS_DISABLED);
        } finally {
            ext.enableMutex.unlock();
        }
        ext.scxOpsBypass(false);
        ext.releaseActive();
    }
}
