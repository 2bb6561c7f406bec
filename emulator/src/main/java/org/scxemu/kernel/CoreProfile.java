// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * Which kernel version's sched_ext core the emulator follows where versions differ (the spec's
 * version notes, §1.3, §6.4, §7.1, §7.3, §14.2). The default is the seed's series (v7).
 *
 * <p>v7 runs the v7 core: the pick flow with put_prev before the pick (Kernel.pickNextTask,
 * Ext.balanceScx/putPrevTaskScx/pickNextTaskScx), ops.runnable/quiescent on cross-CPU moves,
 * v7's kf_mask numbering and cpu_acquire mask 0, validate_ops()/ops.init()/load-time
 * ops.init_task() failures refusing the load, the built-in idle check in scx_select_cpu_dfl(),
 * SCX_ENQ_LAST's local shortcut, SCX_DSQ_LOCAL_ON refused in direct dispatch. One 6.12 piece
 * stays in v7: cross-CPU moves use 6.12's one-lock holding_cpu protocol, not v7's
 * double_lock_balance().
 *
 * <p>6.12, 6.16 and 6.19 run 6.12's core ({@link #CORE_6_12}): Kernel.pickNextTask612 and
 * {@link ExtCore612} (prev_balance with SCX_RQ_BAL_PENDING, pick_task, put_prev_set_next_task
 * that skips a kept prev, balance_one()'s SCX_OPS_ENQ_LAST rule, idle-to-idle without
 * update_idle), 6.12 kf_mask numbers and cpu_acquire under SCX_KF_REST, the idle check in
 * scx_bpf_select_cpu_dfl(), load failures after ENABLING ejecting, no runnable/quiescent on
 * migration. Not modelled in any of them: SCX_DSQ_LOCAL_ON for direct dispatch (refused as in
 * v7), core scheduling. 6.16 and 6.19 change only what is listed below; ops flags their kernels
 * added after 6.12 are refused at load ({@link ProfileScope}), never run as 6.12.
 *
 * <ul>
 *   <li>{@link #V7}: {@code scx_next_task_picked()} bumps {@code pnt_seq} on every pick and sends
 *       {@code cpu_release} on any pick by a class above ext.
 *   <li>{@link #V6_12}: {@code put_prev_task_scx()} ends with {@code switch_class()}: it is the
 *       only place {@code pnt_seq} moves and {@code cpu_release} fires, and only on a switch from
 *       an ext task to a non-ext one. A CPU going from one ext task to another never moves
 *       {@code pnt_seq}, so an {@code SCX_KICK_WAIT} on it can wait for ever; a CPU whose rq lock
 *       was dropped in balance after {@code cpu_acquire} can run an RT task with
 *       {@code cpu_released} false.
 *   <li>{@link #V6_16}: 6.12's protocol with the static key replaced by the ops-flag test
 *       {@code SCX_OPS_HAS_CPU_PREEMPT}.
 *   <li>{@link #V6_19}: the {@code SCX_KICK_WAIT} fix ("sched_ext: Fix SCX_KICK_WAIT to work
 *       reliably"): the sequence ({@code kick_sync}) moves in {@code put_prev_task_scx()} and
 *       {@code pick_task_scx()}, a kicker waits only for a CPU whose current task is an ext task;
 *       {@code cpu_acquire/cpu_release} deprecated with a warning at load. The release is still
 *       sent from {@code switch_class()}.
 * </ul>
 *
 * <p>Selecting a profile flips scx-emu's own static keys below (global, like the kernel's keys;
 * one kernel per JVM at a time), so the default profile's hot path carries no profile test: a
 * disabled key folds to {@code false}.
 */
public enum CoreProfile {
    V7(false, false, false, false),
    V6_12(true, true, false, false),
    V6_16(true, true, false, true),
    V6_19(true, false, true, true);

    /** 6.12+: the release moves from scx_next_task_picked() into switch_class(). */
    static final StaticKey SWITCH_CLASS = StaticKey.defineFalse("scx_emu_profile_switch_class");
    /** 6.12–6.18: pnt_seq moves only in switch_class(). */
    static final StaticKey PNT_SEQ_ON_SWITCH = StaticKey.defineFalse("scx_emu_profile_pnt_seq_on_switch");
    /** 6.19: kick_sync moves in put_prev_task_scx()/pick_task_scx(); waits only for an ext curr. */
    static final StaticKey KICK_SYNC = StaticKey.defineFalse("scx_emu_profile_kick_sync");
    /**
     * 6.12+ (every profile but v7): the 6.12 core where it differs from the v7 series outside the
     * seed's protocol (the built-in idle check in scx_bpf_select_cpu_dfl(), the enable error path).
     */
    static final StaticKey CORE_6_12 = StaticKey.defineFalse("scx_emu_profile_core_6_12");
    /** 6.16+: SCX_OPS_HAS_CPU_PREEMPT replaces the scx_ops_cpu_preempt static key. */
    static final StaticKey FLAG_TEST = StaticKey.defineFalse("scx_emu_profile_cpu_preempt_flag");

    private final boolean switchClass;
    private final boolean pntSeqOnSwitch;
    private final boolean kickSync;
    private final boolean flagTest;

    CoreProfile(boolean switchClass, boolean pntSeqOnSwitch, boolean kickSync, boolean flagTest) {
        this.switchClass = switchClass;
        this.pntSeqOnSwitch = pntSeqOnSwitch;
        this.kickSync = kickSync;
        this.flagTest = flagTest;
    }

    /** Whether cpu_release fires from switch_class() (6.12+) rather than scx_next_task_picked(). */
    public boolean releaseInSwitchClass() {
        return switchClass;
    }

    /** Whether an SCX_KICK_WAIT can miss a switch between two ext tasks (6.12–6.18). */
    public boolean kickWaitMissesExtSwitches() {
        return pntSeqOnSwitch;
    }

    /** Flips the profile keys; done by {@link Kernel} at construction, before any CPU runs. */
    void apply() {
        SWITCH_CLASS.set(switchClass);
        PNT_SEQ_ON_SWITCH.set(pntSeqOnSwitch);
        KICK_SYNC.set(kickSync);
        FLAG_TEST.set(flagTest);
        CORE_6_12.set(this != V7);
    }
}
