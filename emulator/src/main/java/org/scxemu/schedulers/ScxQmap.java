// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.scxemu.scx.Scx.SCX_SLICE_DFL;

/**
 * scx_qmap with {@code ops.cpu_release()}: the seed's scheduler. See {@link QmapCore} for what it
 * demonstrates and how it works.
 *
 * <p>{@code cpu_release} re-enqueues the tasks on the local DSQ of a CPU that a higher class took
 * ({@code scx_bpf_reenqueue_local()}); its presence also turns on the core's
 * {@code scx_ops_cpu_preempt} static key. {@link #create} returns this class, or
 * {@link ScxQmapNoCpuRelease} when {@link Options#cpuRelease} is false, because the kernel decides
 * op presence per scheduler, not per call.
 */
public final class ScxQmap extends QmapCore {
    /**
     * What scx_qmap's command line sets (the BPF side's rodata and struct_ops fields), with its
     * defaults. Read once, by the constructor: later changes do not affect a scheduler.
     */
    public static class Options {
        /** {@code -s SLICE_US}, here in ns: the slice every dispatch gives. */
        public long sliceNs = SCX_SLICE_DFL;
        /** {@code -t COUNT}: drop every COUNT'th enqueue of a user task (a stall); 0 = off. u32. */
        public long stallUserNth;
        /** {@code -T COUNT}: the same for kernel threads ({@code PF_KTHREAD}). u32. */
        public long stallKernelNth;
        /** {@code -l COUNT}: after COUNT dispatches, make ops.dispatch() loop on pid 2. u32. */
        public long dspInfLoopAfter;
        /** {@code -b COUNT}: dispatch up to COUNT tasks per ops.dispatch() (0 means 1). u32. */
        public int dspBatch;
        /** {@code -e COUNT}: scx_bpf_error("test triggering error") on the COUNT'th enqueue. u32. */
        public long errorAfter;
        /** Implement ops.cpu_release() (the seed's op); false gives {@link ScxQmapNoCpuRelease}. */
        public boolean cpuRelease = true;
        /** {@code -p}: SCX_OPS_SWITCH_PARTIAL, only SCHED_EXT tasks switch to the scheduler. */
        public boolean switchPartial;
        /**
         * {@code -P}: print SHARED_DSQ every second. Needs the DSQ iterator, which this v7
         * emulation lacks: accepted and ignored, as 6.12's scx_qmap does on such a kernel.
         */
        public boolean printShared;
        /** ops.timeout_ms: 5000 in scx_qmap; tests may shorten the watchdog with it. */
        public int timeoutMs = 5000;
        /** {@code -D LEN}: ops.exit_dump_len (0 = the kernel's default). */
        public int exitDumpLen;
        /** {@code -S}: suppress the qmap-specific parts of the debug dump. */
        public boolean suppressDump;
    }

    /**
     * scx_qmap with ops.cpu_release().
     *
     * @throws IllegalArgumentException if {@code o.cpuRelease} is false: use {@link #create}
     */
    public ScxQmap(Options o) {
        super(o);
        if (!o.cpuRelease) {
            throw new IllegalArgumentException("cpuRelease=false: use ScxQmap.create(), which returns "
                    + ScxQmapNoCpuRelease.class.getSimpleName());
        }
    }

    /** The scheduler the options describe: with or without ops.cpu_release(). */
    public static QmapCore create(Options o) {
        return o.cpuRelease ? new ScxQmap(o) : new ScxQmapNoCpuRelease(o);
    }

    /** qmap_cpu_release() */
    @Override
    public void cpuRelease(int cpu, CpuReleaseArgs args) {
        qmapCpuRelease(cpu, args);
    }
}
