// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.List;

/**
 * {@code struct scx_exit_info}: why the scheduler exited. Filled in once, by the first exit
 * ({@code scx_ops_exit_kind()}'s cmpxchg winner) and the disable work; published to other threads
 * through {@link Ext}'s exit-kind atomic and the disable completion.
 */
public final class ExitInfo {
    volatile int kind;
    volatile long exitCode;
    volatile String reason = "";
    volatile String msg = "";
    volatile List<String> bt = List.of();
    volatile String dump = "";
    /** The task that was current where the exit was triggered, as "comm[pid]". */
    volatile String triggeredBy = "";
    volatile long atNs;

    /** SCX_EXIT_* */
    public int kind() {
        return kind;
    }

    public long exitCode() {
        return exitCode;
    }

    /** scx_exit_reason(kind), e.g. "runtime error". */
    public String reason() {
        return reason;
    }

    public String msg() {
        return msg;
    }

    public List<String> bt() {
        return bt;
    }

    /** The debug dump (scx_dump_state()), empty for non-error exits. */
    public String dump() {
        return dump;
    }

    /** The kind's name without SCX_EXIT_, as in the JSON summary: UNREG, ERROR_STALL, ... */
    public String kindName() {
        return kindName(kind);
    }

    public static String kindName(int kind) {
        switch (kind) {
            case 0:
                return "NONE";
            case 1:
                return "DONE";
            case 64:
                return "UNREG";
            case 65:
                return "UNREG_BPF";
            case 66:
                return "UNREG_KERN";
            case 67:
                return "SYSRQ";
            case 1024:
                return "ERROR";
            case 1025:
                return "ERROR_BPF";
            case 1026:
                return "ERROR_STALL";
            default:
                return "UNKNOWN_" + kind;
        }
    }

    /** scx_exit_reason() */
    static String reasonOf(int kind) {
        switch (kind) {
            case 64:
                return "unregistered from user space";
            case 65:
                return "unregistered from BPF";
            case 66:
                return "unregistered from the main kernel";
            case 67:
                return "disabled by sysrq-S";
            case 1024:
                return "runtime error";
            case 1025:
                return "scx_bpf_error";
            case 1026:
                return "runnable task stall";
            default:
                return "<UNKNOWN>";
        }
    }

    /** Kinds at or above SCX_EXIT_ERROR are errors: they carry a backtrace and a dump. */
    public boolean isError() {
        return kind >= 1024;
    }
}
