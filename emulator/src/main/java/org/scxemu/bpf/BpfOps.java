// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.util.LinkedHashMap;
import java.util.Map;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;
import org.scxemu.scx.Scx;

/**
 * A loaded BPF object as a {@link SchedExtOps}: each op runs the program the object's
 * {@code sched_ext_ops} table names, with the op's arguments in a {@code u64} array ({@code r1}),
 * exactly as the kernel's struct_ops trampoline passes them. The scalars ({@code name},
 * {@code flags}, {@code timeout_ms}, {@code dispatch_max_batch}, {@code exit_dump_len}) come from
 * the table's bytes.
 *
 * <p>This class overrides no op: {@link OpsClass} generates, per object, a subclass overriding
 * exactly the ops the table has, so the kernel's op-presence detection (SCX_HAS_OP) sees the
 * object's real set and every absent op behaves as the kernel's absent op.
 *
 * <p>A fault in BPF code ({@link BpfFault}) ejects the scheduler with SCX_EXIT_ERROR and the
 * op returns the kernel's neutral value; no exception leaves an op. Thread-safe: all per-call
 * state is the calling thread's ({@link Vm.VmThread}).
 */
public abstract class BpfOps implements SchedExtOps {
    final BpfObject obj;
    final Vm vm;
    private final int[] entry = new int[OP_NAMES.length];

    /** Kernel op names, in {@code struct sched_ext_ops} order, for the ops {@link SchedExtOps} has. */
    static final String[] OP_NAMES = {"select_cpu", "enqueue", "dequeue", "dispatch", "tick", "runnable", "running",
        "stopping", "quiescent", "yield", "core_sched_before", "set_weight", "set_cpumask", "update_idle",
        "cpu_acquire", "cpu_release", "init_task", "exit_task", "enable", "disable", "dump", "dump_cpu",
        "dump_task", "cpu_online", "cpu_offline", "init", "exit"};

    protected BpfOps(BpfObject obj, Vm vm) {
        this.obj = obj;
        this.vm = vm;
        for (int i = 0; i < OP_NAMES.length; i++) {
            Integer e = obj.opsTable.ops.get(OP_NAMES[i]);
            entry[i] = e == null ? -1 : e;
        }
    }

    static int opIndex(String kname) {
        for (int i = 0; i < OP_NAMES.length; i++) {
            if (OP_NAMES[i].equals(kname)) {
                return i;
            }
        }
        return -1;
    }

    /** Ejects the scheduler for a BPF fault: SCX_EXIT_ERROR with the fault's one-line message. */
    static void fault(BpfFault f) {
        Scx.scx_ops_error("%s", f.getMessage());
    }

    @Override
    public String name() {
        return obj.opsTable.name;
    }

    @Override
    public long flags() {
        return obj.opsTable.flags;
    }

    @Override
    public int dispatchMaxBatch() {
        return obj.opsTable.dispatchMaxBatch;
    }

    @Override
    public int timeoutMs() {
        return obj.opsTable.timeoutMs;
    }

    @Override
    public int exitDumpLen() {
        return obj.opsTable.exitDumpLen;
    }

    /** The object's exported counters: every 8-byte global whose name starts with {@code nr_}. */
    @Override
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (BpfObject.Global g : obj.globals.values()) {
            if (g.name().startsWith("nr_") && g.size() == 8) {
                m.put(g.name(), vm.mem.loadBytes(g.region(), g.off(), 8));
            }
        }
        return m;
    }

    @Override
    public String statsLine() {
        return BpfStats.line(obj, vm);
    }

    // --- the op entry points the generated subclass calls --------------------------------------------

    private long call(int op, long a0, long a1, long a2, long dflt) {
        Vm.VmThread t = vm.thread();
        long base;
        try {
            base = vm.enter(t);
        } catch (BpfFault f) {
            fault(f);
            return dflt;
        }
        try {
            vm.mem.storeBytes(t.stack, (int) base, 8, a0);
            vm.mem.storeBytes(t.stack, (int) base + 8, 8, a1);
            vm.mem.storeBytes(t.stack, (int) base + 16, 8, a2);
            return vm.run(t, base, entry[op], base, 0, 0, 0, 0);
        } catch (BpfFault f) {
            fault(f);
            return dflt;
        } finally {
            vm.leave(t);
        }
    }

    /** The argument-struct area of the invocation about to be entered on this thread. */
    private long argStruct() {
        Vm.VmThread t = vm.thread();
        if (t.sp + Vm.INVOCATION > Vm.STACK_SIZE) {
            return 0;
        }
        java.util.Arrays.fill(t.stack.data, t.sp + 64, t.sp + 128, (byte) 0);
        return Memory.ptr(t.stack, t.sp + 64);
    }

    private long task(Task p) {
        return vm.mem.taskPtr(p);
    }

    protected final int bpf_selectCpu(Task p, int prevCpu, long wakeFlags) {
        return (int) call(0, task(p), prevCpu, wakeFlags, prevCpu);
    }

    protected final void bpf_enqueue(Task p, long enqFlags) {
        call(1, task(p), enqFlags, 0, 0);
    }

    protected final void bpf_dequeue(Task p, long deqFlags) {
        call(2, task(p), deqFlags, 0, 0);
    }

    protected final void bpf_dispatch(int cpu, Task prev) {
        call(3, cpu, task(prev), 0, 0);
    }

    protected final void bpf_tick(Task p) {
        call(4, task(p), 0, 0, 0);
    }

    protected final void bpf_runnable(Task p, long enqFlags) {
        call(5, task(p), enqFlags, 0, 0);
    }

    protected final void bpf_running(Task p) {
        call(6, task(p), 0, 0, 0);
    }

    protected final void bpf_stopping(Task p, boolean runnable) {
        call(7, task(p), runnable ? 1 : 0, 0, 0);
    }

    protected final void bpf_quiescent(Task p, long deqFlags) {
        call(8, task(p), deqFlags, 0, 0);
    }

    protected final boolean bpf_yield(Task from, Task to) {
        return (call(9, task(from), task(to), 0, 0) & 0xff) != 0;
    }

    protected final boolean bpf_coreSchedBefore(Task a, Task b) {
        return (call(10, task(a), task(b), 0, 0) & 0xff) != 0;
    }

    protected final void bpf_setWeight(Task p, int weight) {
        call(11, task(p), weight & 0xffffffffL, 0, 0);
    }

    protected final void bpf_setCpumask(Task p, CpuMask cpumask) {
        long pp = task(p);
        call(12, pp, pp + KernelTypes.TASK.off("cpus_mask"), 0, 0);
    }

    protected final void bpf_updateIdle(int cpu, boolean idle) {
        call(13, cpu, idle ? 1 : 0, 0, 0);
    }

    protected final void bpf_cpuAcquire(int cpu, CpuAcquireArgs args) {
        call(14, cpu, argStruct(), 0, 0);
    }

    protected final void bpf_cpuRelease(int cpu, CpuReleaseArgs args) {
        long a = argStruct();
        long p = task(args.task());
        Memory.Bytes s = vm.thread().stack;
        int o = (int) a;
        vm.mem.storeBytes(s, o + KernelTypes.CPU_RELEASE_ARGS.off("reason"), 4, args.reason());
        vm.mem.storeBytes(s, o + KernelTypes.CPU_RELEASE_ARGS.off("task"), 8, p);
        call(15, cpu, a, 0, 0);
    }

    protected final int bpf_initTask(Task p, InitTaskArgs args) {
        long a = argStruct();
        Memory.Bytes s = vm.thread().stack;
        vm.mem.storeBytes(s, (int) a + KernelTypes.INIT_TASK_ARGS.off("fork"), 1, args.fork() ? 1 : 0);
        return (int) call(16, task(p), a, 0, 0);
    }

    protected final void bpf_exitTask(Task p, ExitTaskArgs args) {
        long a = argStruct();
        Memory.Bytes s = vm.thread().stack;
        vm.mem.storeBytes(s, (int) a + KernelTypes.EXIT_TASK_ARGS.off("cancelled"), 1, args.cancelled() ? 1 : 0);
        call(17, task(p), a, 0, 0);
    }

    protected final void bpf_enable(Task p) {
        call(18, task(p), 0, 0, 0);
    }

    protected final void bpf_disable(Task p) {
        call(19, task(p), 0, 0, 0);
    }

    private long dumpCtx(DumpCtx ctx) {
        long a = argStruct();
        Memory.Bytes s = vm.thread().stack;
        int o = (int) a;
        KernelTypes.KStruct k = KernelTypes.DUMP_CTX;
        vm.mem.storeBytes(s, o + k.off("kind"), 4, ctx.kind());
        vm.mem.storeBytes(s, o + k.off("exit_code"), 8, ctx.exitCode());
        vm.mem.storeBytes(s, o + k.off("reason"), 8, vm.mem.string("dump reason", ctx.reason()));
        vm.mem.storeBytes(s, o + k.off("at_ns"), 8, ctx.atNs());
        return a;
    }

    protected final void bpf_dump(DumpCtx ctx) {
        call(20, dumpCtx(ctx), 0, 0, 0);
    }

    protected final void bpf_dumpCpu(DumpCtx ctx, int cpu, boolean idle) {
        call(21, dumpCtx(ctx), cpu, idle ? 1 : 0, 0);
    }

    protected final void bpf_dumpTask(DumpCtx ctx, Task p) {
        call(22, dumpCtx(ctx), task(p), 0, 0);
    }

    protected final void bpf_cpuOnline(int cpu) {
        call(23, cpu, 0, 0, 0);
    }

    protected final void bpf_cpuOffline(int cpu) {
        call(24, cpu, 0, 0, 0);
    }

    protected final int bpf_init() {
        return (int) call(25, 0, 0, 0, -22);
    }

    protected final void bpf_exit(ExitInfo info) {
        Memory mem = vm.mem;
        KernelTypes.KStruct k = KernelTypes.EXIT_INFO;
        Memory.Bytes ei = mem.newBytes("scx_exit_info", k.size, true, false);
        mem.storeBytes(ei, k.off("kind"), 4, info.kind());
        mem.storeBytes(ei, k.off("exit_code"), 8, info.exitCode());
        mem.storeBytes(ei, k.off("reason"), 8, mem.string("exit reason", info.reason()));
        mem.storeBytes(ei, k.off("msg"), 8, mem.string("exit msg", info.msg()));
        mem.storeBytes(ei, k.off("dump"), 8, mem.string("exit dump", info.dump()));
        call(26, Memory.ptr(ei, 0), 0, 0, 0);
    }
}
