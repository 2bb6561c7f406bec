// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

/**
 * The once-a-second stats lines of a BPF scheduler, as its C loader prints them: the kernel's
 * {@code scx_simple}, {@code scx_qmap} and {@code scx_central} in their own formats (recognised
 * by ops name and the globals they export), any other object as its {@code nr_*} counters.
 */
final class BpfStats {
    private BpfStats() {
    }

    static String line(BpfObject obj, Vm vm) {
        String n = obj.opsTable.name;
        if (n.equals("simple") && obj.maps.get("stats") instanceof BpfMap.PerCpuArrayMap) {
            BpfMap.PerCpuArrayMap s = (BpfMap.PerCpuArrayMap) obj.maps.get("stats");
            return String.format("local=%s global=%s", Long.toUnsignedString(s.sum(0, 0)),
                    Long.toUnsignedString(s.sum(1, 0)));
        }
        if (n.equals("qmap") && obj.global("nr_enqueued") != null) {
            long enq = g(obj, vm, "nr_enqueued");
            long dsp = g(obj, vm, "nr_dispatched");
            return String.format("stats  : enq=%d dsp=%d delta=%d reenq=%d deq=%d core=%d enq_ddsp=%d%n"
                    + "         exp_local=%d exp_remote=%d exp_timer=%d exp_lost=%d", enq, dsp, enq - dsp,
                    g(obj, vm, "nr_reenqueued"), g(obj, vm, "nr_dequeued"), g(obj, vm, "nr_core_sched_execed"),
                    g(obj, vm, "nr_ddsp_from_enq"), g(obj, vm, "nr_expedited_local"),
                    g(obj, vm, "nr_expedited_remote"), g(obj, vm, "nr_expedited_from_timer"),
                    g(obj, vm, "nr_expedited_lost"));
        }
        if (n.equals("central") && obj.global("nr_total") != null) {
            return String.format("total   :%10d    local:%10d   queued:%10d  lost:%10d%n"
                    + "timer   :%10d dispatch:%10d mismatch:%10d retry:%10d%noverflow:%10d",
                    g(obj, vm, "nr_total"), g(obj, vm, "nr_locals"), g(obj, vm, "nr_queued"),
                    g(obj, vm, "nr_lost_pids"), g(obj, vm, "nr_timers"), g(obj, vm, "nr_dispatches"),
                    g(obj, vm, "nr_mismatches"), g(obj, vm, "nr_retries"), g(obj, vm, "nr_overflows"));
        }
        StringBuilder sb = new StringBuilder(n);
        sb.append(':');
        for (BpfObject.Global gl : obj.globals.values()) {
            if (gl.name().startsWith("nr_") && gl.size() == 8) {
                sb.append(' ').append(gl.name().substring(3)).append('=')
                        .append(Long.toUnsignedString(vm.mem.loadBytes(gl.region(), gl.off(), 8)));
            }
        }
        return sb.toString();
    }

    private static long g(BpfObject obj, Vm vm, String name) {
        BpfObject.Global gl = obj.global(name);
        if (gl == null) {
            return 0;
        }
        return vm.mem.loadBytes(gl.region(), gl.off(), Math.min(8, Math.max(1, gl.size())));
    }
}
