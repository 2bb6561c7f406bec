// SPDX-License-Identifier: GPL-2.0-only
/**
 * BPF objects as schedulers: the loader and virtual machine behind
 * {@code --scheduler bpf:FILE.bpf.o}.
 *
 * <p>A clang-compiled sched_ext object is read ({@link org.scxemu.bpf.ElfFile},
 * {@link org.scxemu.bpf.Btf}), its maps and global sections are created, its relocations and CO-RE
 * relocations applied against the emulator's own kernel model ({@link org.scxemu.bpf.KernelTypes}),
 * and its {@code sched_ext_ops} table bound by member name to a generated
 * {@link org.scxemu.scx.SchedExtOps} ({@link org.scxemu.bpf.OpsClass}). Ops then run in the
 * interpreter ({@link org.scxemu.bpf.Vm}); their kfuncs call the same {@link org.scxemu.scx.Scx}
 * entry points a Java scheduler calls, so context checks and error texts are the kernel's.
 *
 * <p>Threads and ownership: after load the image and the object's definitions are immutable and
 * read by every CPU thread. Map values and globals are shared memory with BPF's semantics, as
 * {@link org.scxemu.bpf.Memory} describes (plain BPF accesses are opaque, atomics are volatile
 * read-modify-writes, {@code bpf_spin_lock} is a real lock). The BPF stack, register files and
 * call stack of an invocation belong to the thread that runs it ({@code Vm.VmThread}); ops nest
 * on a thread (an {@code enqueue} inside {@code cpu_release}'s {@code scx_bpf_reenqueue_local()}),
 * so each invocation has its own frames.
 */
package org.scxemu.bpf;
