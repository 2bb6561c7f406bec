// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.Task;
import org.scxemu.scx.BpfTimer;
import org.scxemu.scx.Scx;

/**
 * The reference engine: an interpreter for every instruction clang emits at {@code -mcpu=v3} and
 * {@code v4}, with the helpers and kfuncs a sched_ext object calls. One {@code Vm} per loaded
 * object; it runs on every CPU thread at once. Its only mutable state is per thread
 * ({@link VmThread}: the BPF stack, register files, the call stack, the random generator) and the
 * object's shared memory ({@link Memory}).
 *
 * <p>Safety without a verifier: every load and store is bounds-checked against its region, a
 * NULL or dangling pointer faults, writes reach only the kernel fields BPF may write, and each
 * entry into BPF code (an op, a timer callback, a {@code bpf_loop()} body) runs at most
 * {@link #BUDGET} instructions. A fault is a {@link BpfFault} carrying the program, instruction
 * and source line; {@link BpfOps} turns it into the scheduler's SCX_EXIT_ERROR.
 */
final class Vm {
    /** Instructions one entry into BPF code may run. */
    static final int BUDGET = 1_000_000;
    static final int STACK_FRAME = 512;
    static final int MAX_FRAMES = 8;
    /** Per invocation: 64 bytes of u64 arguments, 64 bytes of argument struct, the frames. */
    static final int INVOCATION = 128 + STACK_FRAME * MAX_FRAMES;
    static final int STACK_SIZE = INVOCATION * 24;
    static final int EFAULT = 14;
    static final int EINVAL = 22;
    static final int EBUSY = 16;
    static final int E2BIG = 7;
    static final int ENOENT = 2;

    final BpfObject obj;
    final Memory mem;
    final long seed;
    /** trace_printk() output (the run's trace / stderr); never null. */
    volatile Consumer<String> printk = s -> { };
    private final ThreadLocal<VmThread> threads = ThreadLocal.withInitial(this::newThread);
    private final long idleMaskPtr;
    private final long onlineMaskPtr;
    private final long possibleMaskPtr;
    private final int taskCpusMaskOff = KernelTypes.TASK.off("cpus_mask");
    private final int taskCpusMaskEnd = taskCpusMaskOff + KernelTypes.CPUMASK.size;

    Vm(BpfObject obj, long seed) {
        this.obj = obj;
        this.mem = obj.mem;
        this.seed = seed;
        idleMaskPtr = maskRegion(Memory.MaskSource.IDLE);
        onlineMaskPtr = maskRegion(Memory.MaskSource.ONLINE);
        possibleMaskPtr = maskRegion(Memory.MaskSource.POSSIBLE);
    }

    private long maskRegion(Memory.MaskSource s) {
        Memory.Obj o = new Memory.Obj("cpumask " + s, s, KernelTypes.CPUMASK.size);
        mem.register(o);
        return Memory.ptr(o, 0);
    }

    /** One thread's engine state. Owned by that thread. */
    static final class VmThread {
        final Memory.Bytes stack;
        int sp;
        final long[][] regs = new long[STACK_SIZE / INVOCATION][11];
        int depth;
        final long[] calls = new long[MAX_FRAMES * 6];
        final boolean[] isIdle = new boolean[1];
        SplittableRandom rng;

        VmThread(Memory.Bytes stack) {
            this.stack = stack;
        }
    }

    private VmThread newThread() {
        VmThread t = new VmThread(mem.newBytes("stack of " + Thread.currentThread().getName(), STACK_SIZE, false,
                false));
        return t;
    }

    VmThread thread() {
        return threads.get();
    }

    /** An invocation's argument area; call {@link #leave} when done. */
    long enter(VmThread t) {
        if (t.sp + INVOCATION > STACK_SIZE) {
            throw BpfFault.of("BPF invocations nested too deeply");
        }
        long base = Memory.ptr(t.stack, t.sp);
        Arrays.fill(t.stack.data, t.sp, t.sp + 64, (byte) 0);
        t.sp += INVOCATION;
        t.depth++;
        return base;
    }

    void leave(VmThread t) {
        t.sp -= INVOCATION;
        t.depth--;
    }

    /**
     * Runs the BPF function at {@code entry} with {@code r1..r5}, on an invocation entered with
     * {@link #enter} at {@code base}; returns r0.
     */
    long run(VmThread t, long base, int entry, long r1, long r2, long r3, long r4, long r5) {
        long[] r = t.regs[t.depth - 1];
        r[1] = r1;
        r[2] = r2;
        r[3] = r3;
        r[4] = r4;
        r[5] = r5;
        int fpOff = (int) base + 128 + STACK_FRAME;
        Arrays.fill(t.stack.data, fpOff - STACK_FRAME, fpOff, (byte) 0);
        r[10] = Memory.ptr(t.stack, fpOff);
        return exec(t, r, entry, (int) base + 128);
    }

    /** Runs a callback (a timer or bpf_loop() body) in a fresh invocation on this thread. */
    long callback(int entry, long r1, long r2, long r3) {
        VmThread t = thread();
        long base = enter(t);
        try {
            return run(t, base, entry, r1, r2, r3, 0, 0);
        } finally {
            leave(t);
        }
    }

    // --- the interpreter ----------------------------------------------------------------------------

    private long exec(VmThread t, long[] r, int entry, int framesBase) {
        final BpfObject o = obj;
        final int[] code = o.code;
        final int[] dstA = o.dst;
        final int[] srcA = o.src;
        final int[] offA = o.off;
        final int[] immA = o.imm;
        int pc = entry;
        int frame = 0;
        int budget = BUDGET;
        try {
            for (;;) {
                if (--budget < 0) {
                    throw BpfFault.of("ran more than " + BUDGET + " instructions (an unbounded loop?)");
                }
                if (pc < 0 || pc >= code.length) {
                    throw BpfFault.of("jumped outside the program");
                }
                int op = code[pc];
                int d = dstA[pc];
                int s = srcA[pc];
                int off = offA[pc];
                int imm = immA[pc];
                switch (op & 7) {
                    case 7: // ALU64
                    case 4: { // ALU
                        boolean is64 = (op & 7) == 7;
                        int c = op & 0xf0;
                        long b = (op & 8) != 0 ? r[s] : imm;
                        long a = r[d];
                        long v;
                        if (c == 0xd0) {
                            v = endian(op, a, imm, is64);
                        } else if (is64) {
                            v = alu64(c, a, b, off, (op & 8) == 0);
                        } else {
                            v = alu32(c, (int) a, (int) b, off, (op & 8) == 0) & 0xffffffffL;
                        }
                        r[d] = v;
                        pc++;
                        break;
                    }
                    case 5: // JMP
                    case 6: { // JMP32
                        int c = op & 0xf0;
                        if (c == 0x80) { // CALL
                            int kind = o.callKind[pc];
                            if (kind == BpfObject.CALL_LOCAL) {
                                if (frame + 1 >= MAX_FRAMES) {
                                    throw BpfFault.of("call depth exceeds " + MAX_FRAMES + " frames");
                                }
                                int cs = frame * 6;
                                t.calls[cs] = pc + 1;
                                t.calls[cs + 1] = r[6];
                                t.calls[cs + 2] = r[7];
                                t.calls[cs + 3] = r[8];
                                t.calls[cs + 4] = r[9];
                                t.calls[cs + 5] = r[10];
                                frame++;
                                int fpOff = framesBase + STACK_FRAME * (frame + 1);
                                Arrays.fill(t.stack.data, fpOff - STACK_FRAME, fpOff, (byte) 0);
                                r[10] = Memory.ptr(t.stack, fpOff);
                                pc = o.callArg[pc];
                            } else {
                                r[0] = kind == BpfObject.CALL_HELPER ? helper(t, o.callArg[pc], r)
                                        : kind == BpfObject.CALL_KFUNC ? kfunc(t, Kfunc.VALUES[o.callArg[pc]], r)
                                        : missingWeak(o.callArg[pc]);
                                pc++;
                            }
                            break;
                        }
                        if (c == 0x90) { // EXIT
                            if (frame == 0) {
                                return r[0];
                            }
                            frame--;
                            int cs = frame * 6;
                            pc = (int) t.calls[cs];
                            r[6] = t.calls[cs + 1];
                            r[7] = t.calls[cs + 2];
                            r[8] = t.calls[cs + 3];
                            r[9] = t.calls[cs + 4];
                            r[10] = t.calls[cs + 5];
                            break;
                        }
                        if (c == 0x00) { // JA, gotol
                            pc += 1 + ((op & 7) == 6 ? imm : off);
                            break;
                        }
                        long a = r[d];
                        long b = (op & 8) != 0 ? r[s] : imm;
                        boolean taken = (op & 7) == 5 ? cond64(c, a, b) : cond32(c, (int) a, (int) b);
                        pc += taken ? 1 + off : 1;
                        break;
                    }
                    case 1: { // LDX
                        int size = sizeOf(op);
                        int mode = op & 0xe0;
                        long v = load(r[s] + off, size);
                        if (mode == 0x80) { // MEMSX
                            v = size == 1 ? (byte) v : size == 2 ? (short) v : (int) v;
                        } else if (mode != 0x60) {
                            throw BpfFault.of("unsupported load mode 0x" + Integer.toHexString(op));
                        }
                        r[d] = v;
                        pc++;
                        break;
                    }
                    case 2: // ST
                        if ((op & 0xe0) != 0x60) {
                            throw BpfFault.of("unsupported store mode 0x" + Integer.toHexString(op));
                        }
                        store(r[d] + off, sizeOf(op), imm);
                        pc++;
                        break;
                    case 3: { // STX
                        int mode = op & 0xe0;
                        if (mode == 0x60) {
                            store(r[d] + off, sizeOf(op), r[s]);
                        } else if (mode == 0xc0) {
                            atomic(r, d, s, off, imm, sizeOf(op));
                        } else {
                            throw BpfFault.of("unsupported store mode 0x" + Integer.toHexString(op));
                        }
                        pc++;
                        break;
                    }
                    case 0: // LD
                        if (op == 0x18) {
                            r[d] = o.imm64[pc];
                            pc += 2;
                            break;
                        }
                        throw BpfFault.of("unsupported instruction 0x" + Integer.toHexString(op));
                    default:
                        throw BpfFault.of("unsupported instruction 0x" + Integer.toHexString(op));
                }
            }
        } catch (BpfFault f) {
            if (f.getMessage().startsWith("program ")) {
                throw f;
            }
            throw BpfFault.of("program " + o.progAt(pc) + ": " + f.getMessage() + " " + o.where(pc));
        }
    }

    private static int sizeOf(int op) {
        switch (op & 0x18) {
            case 0x00:
                return 4;
            case 0x08:
                return 2;
            case 0x10:
                return 1;
            default:
                return 8;
        }
    }

    static long alu64(int c, long a, long b, int off, boolean isImm) {
        switch (c) {
            case 0x00:
                return a + b;
            case 0x10:
                return a - b;
            case 0x20:
                return a * b;
            case 0x30:
                if (isImm && b == 0) {
                    throw BpfFault.of("division by zero");
                }
                if (b == 0) {
                    return 0;
                }
                return off == 1 ? (b == -1 ? -a : a / b) : Long.divideUnsigned(a, b);
            case 0x40:
                return a | b;
            case 0x50:
                return a & b;
            case 0x60:
                return a << (b & 63);
            case 0x70:
                return a >>> (b & 63);
            case 0x80:
                return -a;
            case 0x90:
                if (isImm && b == 0) {
                    throw BpfFault.of("modulo by zero");
                }
                if (b == 0) {
                    return a;
                }
                return off == 1 ? (b == -1 ? 0 : a % b) : Long.remainderUnsigned(a, b);
            case 0xa0:
                return a ^ b;
            case 0xb0:
                if (off == 8) {
                    return (byte) b;
                }
                if (off == 16) {
                    return (short) b;
                }
                if (off == 32) {
                    return (int) b;
                }
                return b;
            case 0xc0:
                return a >> (b & 63);
            default:
                throw BpfFault.of("unsupported ALU64 operation 0x" + Integer.toHexString(c));
        }
    }

    static int alu32(int c, int a, int b, int off, boolean isImm) {
        switch (c) {
            case 0x00:
                return a + b;
            case 0x10:
                return a - b;
            case 0x20:
                return a * b;
            case 0x30:
                if (isImm && b == 0) {
                    throw BpfFault.of("division by zero");
                }
                if (b == 0) {
                    return 0;
                }
                return off == 1 ? (b == -1 ? -a : a / b) : Integer.divideUnsigned(a, b);
            case 0x40:
                return a | b;
            case 0x50:
                return a & b;
            case 0x60:
                return a << (b & 31);
            case 0x70:
                return a >>> (b & 31);
            case 0x80:
                return -a;
            case 0x90:
                if (isImm && b == 0) {
                    throw BpfFault.of("modulo by zero");
                }
                if (b == 0) {
                    return a;
                }
                return off == 1 ? (b == -1 ? 0 : a % b) : Integer.remainderUnsigned(a, b);
            case 0xa0:
                return a ^ b;
            case 0xb0:
                if (off == 8) {
                    return (byte) b;
                }
                if (off == 16) {
                    return (short) b;
                }
                return b;
            case 0xc0:
                return a >> (b & 31);
            default:
                throw BpfFault.of("unsupported ALU operation 0x" + Integer.toHexString(c));
        }
    }

    /** BPF_END: to-LE is a truncation on this little-endian machine, to-BE and bswap swap. */
    static long endian(int op, long a, int bits, boolean alu64) {
        boolean swap = alu64 || (op & 8) != 0;
        switch (bits) {
            case 16:
                return swap ? Short.reverseBytes((short) a) & 0xffffL : a & 0xffffL;
            case 32:
                return swap ? Integer.reverseBytes((int) a) & 0xffffffffL : a & 0xffffffffL;
            case 64:
                return swap ? Long.reverseBytes(a) : a;
            default:
                throw BpfFault.of("bad byte-swap width " + bits);
        }
    }

    static boolean cond64(int c, long a, long b) {
        switch (c) {
            case 0x10:
                return a == b;
            case 0x20:
                return Long.compareUnsigned(a, b) > 0;
            case 0x30:
                return Long.compareUnsigned(a, b) >= 0;
            case 0x40:
                return (a & b) != 0;
            case 0x50:
                return a != b;
            case 0x60:
                return a > b;
            case 0x70:
                return a >= b;
            case 0xa0:
                return Long.compareUnsigned(a, b) < 0;
            case 0xb0:
                return Long.compareUnsigned(a, b) <= 0;
            case 0xc0:
                return a < b;
            case 0xd0:
                return a <= b;
            default:
                throw BpfFault.of("unsupported jump 0x" + Integer.toHexString(c));
        }
    }

    static boolean cond32(int c, int a, int b) {
        switch (c) {
            case 0x10:
                return a == b;
            case 0x20:
                return Integer.compareUnsigned(a, b) > 0;
            case 0x30:
                return Integer.compareUnsigned(a, b) >= 0;
            case 0x40:
                return (a & b) != 0;
            case 0x50:
                return a != b;
            case 0x60:
                return a > b;
            case 0x70:
                return a >= b;
            case 0xa0:
                return Integer.compareUnsigned(a, b) < 0;
            case 0xb0:
                return Integer.compareUnsigned(a, b) <= 0;
            case 0xc0:
                return a < b;
            case 0xd0:
                return a <= b;
            default:
                throw BpfFault.of("unsupported jump 0x" + Integer.toHexString(c));
        }
    }

    // --- memory ----------------------------------------------------------------------------------

    long load(long p, int size) {
        Memory.Region reg = mem.region(p);
        if (reg instanceof Memory.Bytes) {
            Memory.Bytes b = (Memory.Bytes) reg;
            int o = (int) p;
            if (o < 0 || o + size > b.len) {
                throw BpfFault.of("out-of-bounds load of " + size + " bytes at offset " + o + " of " + b.name + " ("
                        + b.len + " bytes)");
            }
            return mem.loadBytes(b, o, size);
        }
        if (reg instanceof Memory.Obj) {
            return loadObj((Memory.Obj) reg, (int) p, size);
        }
        throw BpfFault.of(Memory.isNull(p) ? "NULL pointer dereference (load of " + size + " bytes at NULL+" + p
                + ")" : "load through invalid pointer 0x" + Long.toHexString(p));
    }

    void store(long p, int size, long v) {
        Memory.Region reg = mem.region(p);
        if (reg instanceof Memory.Bytes) {
            Memory.Bytes b = (Memory.Bytes) reg;
            int o = (int) p;
            if (o < 0 || o + size > b.len) {
                throw BpfFault.of("out-of-bounds store of " + size + " bytes at offset " + o + " of " + b.name + " ("
                        + b.len + " bytes)");
            }
            if (b.readOnly) {
                throw BpfFault.of("store into read-only " + b.name);
            }
            mem.storeBytes(b, o, size, v);
            return;
        }
        if (reg instanceof Memory.Obj) {
            storeObj((Memory.Obj) reg, (int) p, size, v);
            return;
        }
        throw BpfFault.of(Memory.isNull(p) ? "NULL pointer dereference (store of " + size + " bytes at NULL+" + p
                + ")" : "store through invalid pointer 0x" + Long.toHexString(p));
    }

    private void atomic(long[] r, int d, int s, int off, int imm, int size) {
        long p = r[d] + off;
        Memory.Region reg = mem.region(p);
        if (!(reg instanceof Memory.Bytes)) {
            throw BpfFault.of(Memory.isNull(p) ? "NULL pointer dereference (atomic)"
                    : "atomic operation on " + (reg == null ? "an invalid pointer"
                    : reg.name + ", which is not memory"));
        }
        Memory.Bytes b = (Memory.Bytes) reg;
        int o = (int) p;
        if (o < 0 || o + size > b.len) {
            throw BpfFault.of("out-of-bounds atomic of " + size + " bytes at offset " + o + " of " + b.name);
        }
        if (b.readOnly) {
            throw BpfFault.of("atomic on read-only " + b.name);
        }
        int i = b.base + o;
        if ((i & (size - 1)) != 0) {
            throw BpfFault.of("misaligned atomic of " + size + " bytes at offset " + o + " of " + b.name);
        }
        byte[] a = b.data;
        long x = r[s];
        boolean fetch = (imm & 1) != 0;
        long old;
        if (size == 8) {
            switch (imm & ~1) {
                case 0x00:
                    old = (long) Memory.LONG.getAndAdd(a, i, x);
                    break;
                case 0x40:
                    old = (long) Memory.LONG.getAndBitwiseOr(a, i, x);
                    break;
                case 0x50:
                    old = (long) Memory.LONG.getAndBitwiseAnd(a, i, x);
                    break;
                case 0xa0:
                    old = (long) Memory.LONG.getAndBitwiseXor(a, i, x);
                    break;
                case 0xe0:
                    old = (long) Memory.LONG.getAndSet(a, i, x);
                    break;
                case 0xf0:
                    r[0] = (long) Memory.LONG.compareAndExchange(a, i, r[0], x);
                    return;
                default:
                    throw BpfFault.of("unsupported atomic 0x" + Integer.toHexString(imm));
            }
        } else if (size == 4) {
            int xi = (int) x;
            int oi;
            switch (imm & ~1) {
                case 0x00:
                    oi = (int) Memory.INT.getAndAdd(a, i, xi);
                    break;
                case 0x40:
                    oi = (int) Memory.INT.getAndBitwiseOr(a, i, xi);
                    break;
                case 0x50:
                    oi = (int) Memory.INT.getAndBitwiseAnd(a, i, xi);
                    break;
                case 0xa0:
                    oi = (int) Memory.INT.getAndBitwiseXor(a, i, xi);
                    break;
                case 0xe0:
                    oi = (int) Memory.INT.getAndSet(a, i, xi);
                    break;
                case 0xf0:
                    r[0] = ((int) Memory.INT.compareAndExchange(a, i, (int) r[0], xi)) & 0xffffffffL;
                    return;
                default:
                    throw BpfFault.of("unsupported atomic 0x" + Integer.toHexString(imm));
            }
            old = oi & 0xffffffffL;
        } else {
            throw BpfFault.of("atomic of " + size + " bytes");
        }
        if (fetch) {
            r[s] = old;
        }
    }

    // --- kernel objects ----------------------------------------------------------------------------

    private long loadObj(Memory.Obj reg, int o, int size) {
        if (o < 0 || o + size > reg.size) {
            throw BpfFault.of("out-of-bounds load of " + size + " bytes at offset " + o + " of " + reg.name + " ("
                    + reg.size + " bytes)");
        }
        Object x = reg.obj;
        if (x instanceof Task) {
            return loadTask((Task) x, o, size);
        }
        if (x instanceof Memory.MaskSource) {
            return maskBytes(maskOf((Memory.MaskSource) x), o, size);
        }
        throw BpfFault.of("load from " + reg.name + ", which BPF cannot read directly");
    }

    private void storeObj(Memory.Obj reg, int o, int size, long v) {
        if (o < 0 || o + size > reg.size) {
            throw BpfFault.of("out-of-bounds store of " + size + " bytes at offset " + o + " of " + reg.name + " ("
                    + reg.size + " bytes)");
        }
        if (!(reg.obj instanceof Task)) {
            throw BpfFault.of("store into " + reg.name + ", which BPF cannot write");
        }
        Task t = (Task) reg.obj;
        KernelTypes.KField f = o >= 0 && o < KernelTypes.TASK_FIELD_AT.length ? KernelTypes.TASK_FIELD_AT[o] : null;
        if (f == null || o + size > f.off() + f.size()) {
            throw BpfFault.of("store of " + size + " bytes at offset " + o + " of task_struct, which is no field");
        }
        if (!f.writable() || o != f.off() || size != f.size()) {
            throw BpfFault.of("store to task_struct field " + f.name() + ", which BPF may not write");
        }
        switch (f.id()) {
            case KernelTypes.S_SLICE:
                t.scx.slice = v;
                break;
            case KernelTypes.S_DSQ_VTIME:
                t.scx.dsqVtime = v;
                break;
            case KernelTypes.S_DISALLOW:
                t.scx.disallow = v != 0;
                break;
            default:
                throw BpfFault.of("store to task_struct field " + f.name() + ", which BPF may not write");
        }
    }

    private long loadTask(Task t, int o, int size) {
        KernelTypes.KField f = o >= 0 && o < KernelTypes.TASK_FIELD_AT.length ? KernelTypes.TASK_FIELD_AT[o] : null;
        if (f == null || o + size > f.off() + f.size()) {
            throw BpfFault.of("load of " + size + " bytes at offset " + o + " of task_struct, which is no field");
        }
        int in = o - f.off();
        long v;
        switch (f.id()) {
            case KernelTypes.T_STATE:
                v = t.state();
                break;
            case KernelTypes.T_FLAGS:
                v = t.flags();
                break;
            case KernelTypes.T_ON_CPU:
                v = Scx.scx_bpf_task_running(t) ? 1 : 0;
                break;
            case KernelTypes.T_PRIO:
            case KernelTypes.T_STATIC_PRIO:
                v = 120 + t.nice();
                break;
            case KernelTypes.T_POLICY:
                v = t.policy();
                break;
            case KernelTypes.T_NR_CPUS_ALLOWED:
                v = t.nrCpusAllowed();
                break;
            case KernelTypes.T_MIGRATION_DISABLED:
                v = 0;
                break;
            case KernelTypes.T_CPUS_PTR:
                v = mem.taskPtr(t) + taskCpusMaskOff;
                break;
            case KernelTypes.T_CPUS_MASK:
                return maskBytes(t.cpusPtr(), in, size);
            case KernelTypes.T_PID:
            case KernelTypes.T_TGID:
                v = t.pid;
                break;
            case KernelTypes.T_COMM: {
                byte[] c = t.comm.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                long r = 0;
                for (int i = size - 1; i >= 0; i--) {
                    int ix = in + i;
                    r = (r << 8) | (ix < c.length && ix < 15 ? c[ix] & 0xff : 0);
                }
                return r;
            }
            case KernelTypes.T_SUM_EXEC:
                v = t.sumExecRuntime();
                break;
            case KernelTypes.S_FLAGS:
                v = t.scx.flags();
                break;
            case KernelTypes.S_WEIGHT:
                v = t.scx.weight;
                break;
            case KernelTypes.S_STICKY_CPU:
                v = -1;
                break;
            case KernelTypes.S_HOLDING_CPU:
                v = t.scx.holdingCpu();
                break;
            case KernelTypes.S_OPS_STATE:
                v = t.scx.opsState();
                break;
            case KernelTypes.S_SLICE:
                v = t.scx.slice;
                break;
            case KernelTypes.S_DSQ_VTIME:
                v = t.scx.dsqVtime;
                break;
            case KernelTypes.S_DISALLOW:
                v = t.scx.disallow ? 1 : 0;
                break;
            default: // dsq, kf_mask, runnable_at, ddsp_*: the core's, read as 0
                v = 0;
                break;
        }
        return extract(v, in, size);
    }

    private static long extract(long v, int in, int size) {
        long x = v >>> (8 * in);
        return size == 8 ? x : x & ((1L << (8 * size)) - 1);
    }

    private long maskBytes(CpuMask m, int in, int size) {
        long r = 0;
        for (int i = size - 1; i >= 0; i--) {
            int byteIx = in + i;
            int bits = 0;
            for (int b = 0; b < 8; b++) {
                int cpu = byteIx * 8 + b;
                if (cpu < 256 && m.test(cpu)) {
                    bits |= 1 << b;
                }
            }
            r = (r << 8) | bits;
        }
        return r;
    }

    private CpuMask maskOf(Memory.MaskSource s) {
        switch (s) {
            case IDLE:
                return org.scxemu.kernel.Kfuncs.getIdleCpumask();
            default:
                return CpuMask.all(Scx.scx_bpf_nr_cpu_ids());
        }
    }

    Task task(long p, String what) {
        if (p == 0) {
            return null;
        }
        Memory.Region reg = mem.region(p);
        if (reg instanceof Memory.Obj && ((Memory.Obj) reg).obj instanceof Task && (int) p == 0) {
            return (Task) ((Memory.Obj) reg).obj;
        }
        throw BpfFault.of(what + ": argument 0x" + Long.toHexString(p) + " is not a task_struct pointer");
    }

    CpuMask cpumask(long p, String what) {
        Memory.Region reg = mem.region(p);
        if (reg instanceof Memory.Obj) {
            Object x = ((Memory.Obj) reg).obj;
            if (x instanceof Memory.MaskSource) {
                return maskOf((Memory.MaskSource) x);
            }
            if (x instanceof Task && (int) p == taskCpusMaskOff) {
                return ((Task) x).cpusPtr();
            }
        }
        throw BpfFault.of(what + ": argument 0x" + Long.toHexString(p) + " is not a cpumask pointer");
    }

    BpfMap map(long p, String what) {
        Memory.Region reg = mem.region(p);
        if (reg instanceof Memory.Obj && ((Memory.Obj) reg).obj instanceof BpfMap) {
            return (BpfMap) ((Memory.Obj) reg).obj;
        }
        throw BpfFault.of(what + ": argument 0x" + Long.toHexString(p) + " is not a map");
    }

    /** A C string through any readable pointer (bytes or a kernel object such as p->comm). */
    String string(long p, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < max; i++) {
            int c = (int) load(p + i, 1);
            if (c == 0) {
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    // --- helpers -------------------------------------------------------------------------------

    private static int cpu() {
        int c = Scx.bpf_get_smp_processor_id();
        return c < 0 ? 0 : c;
    }

    private long helper(VmThread t, int id, long[] r) {
        switch (id) {
            case 1:
                return map(r[1], "bpf_map_lookup_elem").lookup(r[2], cpu());
            case 2:
                return map(r[1], "bpf_map_update_elem").update(r[2], r[3], r[4]);
            case 3:
                return map(r[1], "bpf_map_delete_elem").delete(r[2]);
            case 5:
                return Scx.bpf_ktime_get_ns();
            case 6:
                printk.accept(bstr(string(r[1], (int) Math.min(r[2], 1024)), new long[] {r[3], r[4], r[5]}, 3));
                return 0;
            case 7:
                if (t.rng == null) {
                    t.rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + cpu());
                }
                return t.rng.nextInt() & 0xffffffffL;
            case 8:
                // off a CPU thread (ops.init() runs in the loader's context) the loader is on CPU 0
                return cpu();
            case 87:
                return map(r[1], "bpf_map_push_elem").push(r[2], r[3]);
            case 88:
                return map(r[1], "bpf_map_pop_elem").pop(r[2], true);
            case 89:
                return map(r[1], "bpf_map_peek_elem").pop(r[2], false);
            case 93:
                spinLock(r[1]);
                return 0;
            case 94:
                spinUnlock(r[1]);
                return 0;
            case 113:
                return probeRead(r[1], (int) r[2], r[3], false);
            case 115:
                return probeRead(r[1], (int) r[2], r[3], true);
            case 156: {
                BpfMap m = map(r[1], "bpf_task_storage_get");
                Task p = task(r[2], "bpf_task_storage_get");
                if (!(m instanceof BpfMap.TaskStorageMap) || p == null) {
                    return 0;
                }
                return ((BpfMap.TaskStorageMap) m).get(p, r[3], (r[4] & 1) != 0);
            }
            case 157: {
                BpfMap m = map(r[1], "bpf_task_storage_delete");
                Task p = task(r[2], "bpf_task_storage_delete");
                return m instanceof BpfMap.TaskStorageMap && p != null ? ((BpfMap.TaskStorageMap) m).delete(p)
                        : -EINVAL;
            }
            case 169:
                return timerInit(r[1], r[2]);
            case 170:
                return timerSetCallback(r[1], r[2]);
            case 171:
                return timerStart(r[1], r[2], r[3]);
            case 172: {
                TimerState ts = timerOf(r[1]);
                return ts == null || ts.timer == null ? -EINVAL : Scx.bpf_timer_cancel(ts.timer);
            }
            case 181:
                return loop(r[1], r[2], r[3]);
            case 182: { // bpf_strncmp(s1, s1_sz, s2): strncmp(s1, s2, s1_sz)
                for (int i = 0; i < (int) r[2]; i++) {
                    int a = (int) load(r[1] + i, 1);
                    int b = (int) load(r[3] + i, 1);
                    if (a != b || a == 0) {
                        return a - b;
                    }
                }
                return 0;
            }
            case 195:
                return map(r[1], "bpf_map_lookup_percpu_elem").lookupPercpu(r[2], (int) r[3]);
            default:
                throw BpfFault.of("unknown helper " + id);
        }
    }

    private long probeRead(long dst, int size, long src, boolean str) {
        if (size <= 0) {
            return size == 0 ? 0 : -EINVAL;
        }
        Memory.Bytes d = mem.bytesAt(dst, size, "bpf_probe_read_kernel destination");
        if (d.readOnly) {
            throw BpfFault.of("bpf_probe_read_kernel into read-only " + d.name);
        }
        byte[] buf = new byte[size];
        int n = 0;
        try {
            for (; n < size; n++) {
                buf[n] = (byte) load(src + n, 1);
                if (str && buf[n] == 0) {
                    n++;
                    break;
                }
            }
        } catch (BpfFault f) {
            Arrays.fill(d.data, d.base + (int) dst, d.base + (int) dst + size, (byte) 0);
            return -EFAULT;
        }
        if (str && n == size) {
            buf[size - 1] = 0;
        }
        System.arraycopy(buf, 0, d.data, d.base + (int) dst, n);
        return n;
    }

    /** bpf_spin_lock(): a test-and-test-and-set spin lock on the 4-byte word, as the kernel's. */
    private void spinLock(long p) {
        Memory.Bytes b = mem.bytesAt(p, 4, "bpf_spin_lock");
        int i = b.base + (int) p;
        if ((i & 3) != 0) {
            throw BpfFault.of("misaligned bpf_spin_lock");
        }
        int spins = 0;
        // acquire: the CAS is a volatile read-modify-write; pairs with the release store in spinUnlock()
        while (!Memory.INT.compareAndSet(b.data, i, 0, 1)) {
            while ((int) Memory.INT.getOpaque(b.data, i) != 0) {
                Thread.onSpinWait();
                if (++spins > 50_000_000) {
                    throw BpfFault.of("bpf_spin_lock held for too long (never unlocked?)");
                }
            }
        }
    }

    private void spinUnlock(long p) {
        Memory.Bytes b = mem.bytesAt(p, 4, "bpf_spin_unlock");
        // release: pairs with the acquiring CAS in spinLock()
        Memory.INT.setRelease(b.data, b.base + (int) p, 0);
    }

    private long loop(long nr, long fn, long ctx) {
        Memory.Region reg = mem.region(fn);
        if (!(reg instanceof Memory.Obj) || !(((Memory.Obj) reg).obj instanceof Memory.Func)) {
            throw BpfFault.of("bpf_loop: the callback is not a function");
        }
        if (nr > (1 << 23)) {
            return -E2BIG;
        }
        int entry = ((Memory.Func) ((Memory.Obj) reg).obj).insn();
        long i = 0;
        for (; i < nr; i++) {
            if (callback(entry, i, ctx, 0) != 0) {
                i++;
                break;
            }
        }
        return i;
    }

    // --- timers -------------------------------------------------------------------------------

    /** A bpf_timer's kernel side; its handle is stored in the timer's first eight bytes. */
    final class TimerState {
        final long timerPtr;
        final long mapPtr;
        final long keyPtr;
        volatile int callback = -1;
        BpfTimer timer;

        TimerState(long timerPtr, long mapPtr, long keyPtr) {
            this.timerPtr = timerPtr;
            this.mapPtr = mapPtr;
            this.keyPtr = keyPtr;
        }

        void fire() {
            int cb = callback;
            if (cb < 0) {
                return;
            }
            try {
                callback(cb, mapPtr, keyPtr, timerPtr);
            } catch (BpfFault f) {
                BpfOps.fault(f);
            }
        }
    }

    private TimerState timerOf(long timerPtr) {
        Memory.Bytes b = mem.bytesAt(timerPtr, 16, "bpf_timer access");
        long h = mem.loadBytes(b, (int) timerPtr, 8);
        Memory.Region reg = mem.region(h);
        return reg instanceof Memory.Obj && ((Memory.Obj) reg).obj instanceof TimerState
                ? (TimerState) ((Memory.Obj) reg).obj : null;
    }

    private synchronized long timerInit(long timerPtr, long mapPtr) {
        Memory.Bytes b = mem.bytesAt(timerPtr, 16, "bpf_timer_init");
        if (timerOf(timerPtr) != null) {
            return -EBUSY;
        }
        map(mapPtr, "bpf_timer_init");
        long keyPtr = 0;
        if (b.key != null) {
            Memory.Bytes k = new Memory.Bytes("key of " + b.name, b.key.clone(), 0, b.key.length, true, false);
            mem.register(k);
            keyPtr = Memory.ptr(k, 0);
        }
        TimerState ts = new TimerState(timerPtr, mapPtr, keyPtr);
        ts.timer = new BpfTimer("bpf_timer " + b.name, ts::fire);
        Memory.Obj o = new Memory.Obj("bpf_timer", ts, 0);
        mem.register(o);
        mem.storeBytes(b, (int) timerPtr, 8, Memory.ptr(o, 0));
        return 0;
    }

    private long timerSetCallback(long timerPtr, long fn) {
        TimerState ts = timerOf(timerPtr);
        if (ts == null) {
            return -EINVAL;
        }
        Memory.Region reg = mem.region(fn);
        if (!(reg instanceof Memory.Obj) || !(((Memory.Obj) reg).obj instanceof Memory.Func)) {
            throw BpfFault.of("bpf_timer_set_callback: the callback is not a function");
        }
        ts.callback = ((Memory.Func) ((Memory.Obj) reg).obj).insn();
        return 0;
    }

    private long timerStart(long timerPtr, long ns, long flags) {
        TimerState ts = timerOf(timerPtr);
        if (ts == null || ts.callback < 0) {
            return -EINVAL;
        }
        long rel = (flags & 1) != 0 ? Math.max(0, ns - Scx.bpf_ktime_get_ns()) : ns;
        return Scx.bpf_timer_start(ts.timer, rel, flags);
    }

    // --- kfuncs --------------------------------------------------------------------------------

    private long missingWeak(int which) {
        throw BpfFault.of("called kfunc " + obj.missingWeak.get(which) + ", which the kernel profile lacks (a weak"
                + " extern; guard it with bpf_ksym_exists())");
    }

    private long kfunc(VmThread t, Kfunc k, long[] r) {
        switch (k) {
            case SCX_BPF_SELECT_CPU_DFL: {
                boolean[] idle = t.isIdle;
                idle[0] = false;
                int cpu = Scx.scx_bpf_select_cpu_dfl(task(r[1], k.kname), (int) r[2], r[3], idle);
                if (r[4] != 0) {
                    store(r[4], 1, idle[0] ? 1 : 0);
                }
                return cpu;
            }
            case SCX_BPF_DISPATCH:
                Scx.scx_bpf_dispatch(task(r[1], k.kname), r[2], r[3], r[4]);
                return 0;
            case SCX_BPF_DISPATCH_VTIME:
                Scx.scx_bpf_dispatch_vtime(task(r[1], k.kname), r[2], r[3], r[4], r[5]);
                return 0;
            case SCX_BPF_DISPATCH_NR_SLOTS:
                return Scx.scx_bpf_dispatch_nr_slots() & 0xffffffffL;
            case SCX_BPF_DISPATCH_CANCEL:
                Scx.scx_bpf_dispatch_cancel();
                return 0;
            case SCX_BPF_CONSUME:
                return Scx.scx_bpf_consume(r[1]) ? 1 : 0;
            case SCX_BPF_REENQUEUE_LOCAL:
                return Scx.scx_bpf_reenqueue_local() & 0xffffffffL;
            case SCX_BPF_KICK_CPU:
                Scx.scx_bpf_kick_cpu((int) r[1], r[2]);
                return 0;
            case SCX_BPF_DSQ_NR_QUEUED:
                return Scx.scx_bpf_dsq_nr_queued(r[1]);
            case SCX_BPF_CREATE_DSQ:
                return Scx.scx_bpf_create_dsq(r[1], (int) r[2]);
            case SCX_BPF_DESTROY_DSQ:
                Scx.scx_bpf_destroy_dsq(r[1]);
                return 0;
            case SCX_BPF_EXIT_BSTR:
                Scx.scx_bpf_exit(r[1], "%s", bstrCall(r[2], r[3], r[4]));
                return 0;
            case SCX_BPF_ERROR_BSTR:
                Scx.scx_bpf_error("%s", bstrCall(r[1], r[2], r[3]));
                return 0;
            case SCX_BPF_DUMP_BSTR:
                Scx.scx_bpf_dump("%s", bstrCall(r[1], r[2], r[3]));
                return 0;
            case SCX_BPF_NR_CPU_IDS:
                return Scx.scx_bpf_nr_cpu_ids();
            case SCX_BPF_GET_IDLE_CPUMASK:
            case SCX_BPF_GET_IDLE_SMTMASK:
                Scx.scx_bpf_get_idle_cpumask();
                return idleMaskPtr;
            case SCX_BPF_GET_ONLINE_CPUMASK:
                return onlineMaskPtr;
            case SCX_BPF_GET_POSSIBLE_CPUMASK:
                return possibleMaskPtr;
            case SCX_BPF_PUT_IDLE_CPUMASK:
            case SCX_BPF_PUT_CPUMASK:
            case BPF_RCU_READ_LOCK:
            case BPF_RCU_READ_UNLOCK:
            case BPF_TASK_RELEASE:
                return 0;
            case SCX_BPF_TEST_AND_CLEAR_CPU_IDLE:
                return Scx.scx_bpf_test_and_clear_cpu_idle((int) r[1]) ? 1 : 0;
            case SCX_BPF_PICK_IDLE_CPU:
                return Scx.scx_bpf_pick_idle_cpu(cpumask(r[1], k.kname), r[2]);
            case SCX_BPF_PICK_ANY_CPU:
                return Scx.scx_bpf_pick_any_cpu(cpumask(r[1], k.kname), r[2]);
            case SCX_BPF_TASK_RUNNING:
                return Scx.scx_bpf_task_running(task(r[1], k.kname)) ? 1 : 0;
            case SCX_BPF_TASK_CPU:
                return Scx.scx_bpf_task_cpu(task(r[1], k.kname));
            case SCX_BPF_CPUPERF_CAP:
            case SCX_BPF_CPUPERF_CUR:
                // no frequency scaling is emulated: every CPU runs at full capacity
                return Scx.SCX_CPUPERF_ONE;
            case SCX_BPF_CPUPERF_SET:
                return 0;
            case BPF_TASK_FROM_PID:
                return mem.taskPtr(Scx.bpf_task_from_pid((int) r[1]));
            case BPF_TASK_ACQUIRE:
                task(r[1], k.kname);
                return r[1];
            case BPF_CPUMASK_TEST_CPU: {
                int cpu = (int) r[1];
                return cpu >= 0 && cpu < 256 && cpumask(r[2], k.kname).test(cpu) ? 1 : 0;
            }
            case BPF_CPUMASK_WEIGHT:
                return cpumask(r[1], k.kname).weight();
            case BPF_CPUMASK_FIRST: {
                int f = cpumask(r[1], k.kname).first();
                return f < 0 ? 256 : f;
            }
            case BPF_CPUMASK_EMPTY:
                return cpumask(r[1], k.kname).weight() == 0 ? 1 : 0;
            case BPF_ITER_NUM_NEW: {
                int start = (int) r[2];
                int end = (int) r[3];
                if (start > end || (long) end - start > (1 << 23)) {
                    store(r[1], 8, 0);
                    return start > end ? -EINVAL : -E2BIG;
                }
                store(r[1], 4, start - 1);
                store(r[1] + 4, 4, end);
                return 0;
            }
            case BPF_ITER_NUM_NEXT: {
                int cur = (int) load(r[1], 4);
                int end = (int) load(r[1] + 4, 4);
                if ((long) cur + 1 >= end) {
                    store(r[1], 8, 0);
                    return 0;
                }
                store(r[1], 4, cur + 1);
                return r[1];
            }
            case BPF_ITER_NUM_DESTROY:
                store(r[1], 8, 0);
                return 0;
            default:
                throw BpfFault.of("kfunc " + k.kname + " is not bound");
        }
    }

    private String bstrCall(long fmtPtr, long dataPtr, long dataLen) {
        String fmt = string(fmtPtr, 1024);
        if (dataLen % 8 != 0 || dataLen > 12 * 8) {
            throw BpfFault.of("bstr data length " + dataLen + " is not a multiple of 8 of at most 96");
        }
        int n = (int) (dataLen / 8);
        long[] data = new long[n];
        for (int i = 0; i < n; i++) {
            data[i] = load(dataPtr + 8L * i, 8);
        }
        return bstr(fmt, data, n);
    }

    /**
     * The kernel's bstr formatting: each conversion takes the next u64 of {@code data}; without an
     * {@code l} modifier an integer conversion uses the low 32 bits; {@code %s} reads a string
     * through the pointer.
     */
    String bstr(String fmt, long[] data, int n) {
        StringBuilder out = new StringBuilder();
        int ai = 0;
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i + 1 < fmt.length() && fmt.charAt(i + 1) == '%') {
                out.append('%');
                i++;
                continue;
            }
            int j = i + 1;
            StringBuilder spec = new StringBuilder("%");
            while (j < fmt.length() && "-+ #0".indexOf(fmt.charAt(j)) >= 0) {
                spec.append(fmt.charAt(j++));
            }
            while (j < fmt.length() && (Character.isDigit(fmt.charAt(j)) || fmt.charAt(j) == '.')) {
                spec.append(fmt.charAt(j++));
            }
            int longs = 0;
            while (j < fmt.length() && "lhzjt".indexOf(fmt.charAt(j)) >= 0) {
                if (fmt.charAt(j) == 'l' || fmt.charAt(j) == 'z' || fmt.charAt(j) == 'j' || fmt.charAt(j) == 't') {
                    longs++;
                }
                j++;
            }
            if (j >= fmt.length()) {
                out.append(fmt, i, fmt.length());
                break;
            }
            char conv = fmt.charAt(j);
            long v = ai < n ? data[ai] : 0;
            ai++;
            boolean wide = longs > 0;
            try {
                conversion(out, spec.toString(), conv, v, wide);
            } catch (java.util.IllegalFormatException e) {
                out.append(fmt, i, j + 1); // a flag Java's formatter refuses: the spec verbatim
            }
            i = j;
        }
        return out.toString();
    }

    private void conversion(StringBuilder out, String spec, char conv, long v, boolean wide) {
        switch (conv) {
            case 'd':
            case 'i':
                out.append(String.format(spec + "d", wide ? v : (long) (int) v));
                break;
            case 'u':
                out.append(String.format(spec + "s", Long.toUnsignedString(wide ? v : v & 0xffffffffL)));
                break;
            case 'x':
            case 'X':
            case 'o':
                out.append(String.format(spec + conv, wide ? v : v & 0xffffffffL));
                break;
            case 'c':
                out.append((char) (v & 0xff));
                break;
            case 'p':
                out.append("0x").append(Long.toHexString(v));
                break;
            case 's':
                out.append(String.format(spec + "s", v == 0 ? "(null)" : string(v, 1024)));
                break;
            default:
                out.append(spec).append(conv);
                break;
        }
    }
}
