// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

import org.scxemu.scx.SchedExtOps.DumpCtx;

/** ext.c: scx_dump_state() and its helpers, in the kernel's line formats. */
final class ExtDump {
    private ExtDump() {
    }

    static final String TRUNC_MARKER = "\n\n~~~~ TRUNCATED ~~~~\n";

    /** A dump being written; truncated to {@code limit} with the kernel's marker. */
    private static final class DumpBuf {
        final StringBuilder sb = new StringBuilder();
        final int limit;
        boolean truncated;

        DumpBuf(int limit) {
            this.limit = limit;
        }

        void line(String s) {
            if (truncated) {
                return;
            }
            sb.append(s).append('\n');
            if (sb.length() > limit) {
                // The marker overwrites the end of the buffer: the dump never exceeds dump_len.
                int keep = Math.max(0, limit - TRUNC_MARKER.length());
                sb.setLength(keep);
                sb.append(TRUNC_MARKER, 0, Math.min(TRUNC_MARKER.length(), limit));
                truncated = true;
            }
        }

        void newline() {
            line("");
        }
    }

    static String dumpState(Ext ext, ExitInfo ei, int dumpLen) {
        Kernel kernel = ext.kernel;
        DumpBuf s = new DumpBuf(dumpLen);
        DumpCtx dctx = new DumpCtx(ei.kind, ei.exitCode, ei.reason.isEmpty() ? ExitInfo.reasonOf(ei.kind) : ei.reason,
                ei.atNs);
        s.line(String.format("%s triggered exit kind %d:", ei.triggeredBy, ei.kind));
        s.line(String.format("  %s (%s)", dctx.reason(), ei.msg));
        s.newline();
        s.line("Backtrace:");
        for (String f : ei.bt) {
            s.line("  " + f);
        }
        ExecCtx ctx = ExecCtx.current(kernel);
        if (ScxKeys.HAS_DUMP.enabled()) {
            s.newline();
            String out = runDumpOp(ext, ctx, () -> ext.ops.dump(dctx));
            for (String l : out.split("\n", -1)) {
                if (!l.isEmpty()) {
                    s.line(l);
                }
            }
        }
        s.newline();
        s.line("CPU states");
        s.line("----------");
        for (Rq rq : ext.rqs()) {
            rq.lock.lock();
            try {
                Rq.ScxRq sx = rq.scx;
                boolean idle = rq.curr == rq.idle;
                String cpuOut = "";
                if (ScxKeys.HAS_DUMP_CPU.enabled()) {
                    cpuOut = runDumpOp(ext, ctx, () -> ext.ops.dumpCpu(dctx, rq.cpu, idle));
                }
                // Idle CPUs with nothing queued and nothing to say are skipped.
                if (idle && sx.nrRunning == 0 && cpuOut.isEmpty()) {
                    continue;
                }
                s.newline();
                s.line(String.format("CPU %-4d: nr_run=%d flags=0x%x cpu_rel=%d ops_qseq=%s pnt_seq=%s", rq.cpu,
                        sx.nrRunning, sx.flags, sx.lpCpuReleased() ? 1 : 0, Long.toUnsignedString(sx.opsQseq),
                        Long.toUnsignedString(sx.lpPntSeq())));
                s.line(String.format("          curr=%s[%d] class=%s", rq.curr.comm, rq.curr.pid,
                        rq.curr.schedClass.symbol));
                ExecCtx cc = rq.ctx;
                maskLine(s, "  cpus_to_kick   : ", cc.cpusToKick, kernel.nrCpus);
                maskLine(s, "  idle_to_kick   : ", cc.cpusToKickIfIdle, kernel.nrCpus);
                maskLine(s, "  cpus_to_preempt: ", cc.cpusToPreempt, kernel.nrCpus);
                maskLine(s, "  cpus_to_wait   : ", cc.cpusToWait, kernel.nrCpus);
                for (String l : cpuOut.split("\n", -1)) {
                    if (!l.isEmpty()) {
                        s.line("  " + l);
                    }
                }
                if (rq.curr.schedClass == SchedClass.EXT) {
                    dumpTask(ext, ctx, s, dctx, '*', rq.curr);
                }
                for (Task p = sx.runnableHead; p != null; p = p.scx.runnableNext) {
                    dumpTask(ext, ctx, s, dctx, ' ', p);
                }
            } finally {
                rq.lock.unlock();
            }
        }
        return s.sb.toString();
    }

    private static void maskLine(DumpBuf s, String prefix, long[] mask, int nrCpus) {
        if (ExecCtx.isEmpty(mask)) {
            return;
        }
        s.line(prefix + CpuMask.formatRanges(c -> ExecCtx.testBit(mask, c), nrCpus));
    }

    private static char taskStateChar(Task p) {
        int st = p.laState();
        if (st == Task.TASK_RUNNING || st == Kernel.TASK_WAKING) {
            return 'R';
        }
        if (st == Task.TASK_DEAD) {
            return 'X';
        }
        return 'S';
    }

    /** ext.c: scx_dump_task() */
    private static void dumpTask(Ext ext, ExecCtx ctx, DumpBuf s, DumpCtx dctx, char marker, Task p) {
        SchedExtEntity x = p.scx;
        long opss = x.readOnceOpsState();
        String dsqId = x.dsq == null ? "(n/a)" : "0x" + Long.toHexString(x.dsq.id());
        s.newline();
        s.line(String.format(" %c%c %s[%d] %+dms", marker, taskStateChar(p), p.comm, p.pid,
                (x.runnableAt - dctx.atNs()) / 1_000_000L));
        s.line(String.format("      scx_state/flags=%d/0x%x dsq_flags=0x%x ops_state/qseq=%d/%s", x.taskState(),
                x.flags & ~SCX_TASK_STATE_MASK, x.dsqFlags, opss & SCX_OPSS_STATE_MASK,
                Long.toUnsignedString(opss >>> SCX_OPSS_QSEQ_SHIFT)));
        s.line(String.format("      sticky/holding_cpu=%d/%d dsq_id=%s dsq_vtime=%s", x.stickyCpu,
                x.readOnceHoldingCpu(), dsqId, Long.toUnsignedString(x.dsqVtime)));
        s.line("      cpus=" + p.cpusAllowed);
        if (ScxKeys.HAS_DUMP_TASK.enabled()) {
            String out = runDumpOp(ext, ctx, () -> ext.ops.dumpTask(dctx, p));
            for (String l : out.split("\n", -1)) {
                if (!l.isEmpty()) {
                    s.line("    " + l);
                }
            }
        }
    }

    /** Runs a dump op with scx_bpf_dump() enabled, collecting what it printed. */
    private static String runDumpOp(Ext ext, ExecCtx ctx, Runnable op) {
        StringBuilder saved = ctx.dumpBuf;
        StringBuilder buf = new StringBuilder();
        ctx.dumpBuf = buf;
        int savedMask = ctx.kfMask;
        try {
            op.run();
        } catch (RuntimeException e) {
            buf.append("ops dump threw ").append(e).append('\n');
        } finally {
            ctx.dumpBuf = saved;
            ctx.kfMask = savedMask;
        }
        return buf.toString();
    }
}
