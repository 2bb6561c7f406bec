/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * exit_bstr: after 'exit_after' enqueues, leaves with scx_bpf_exit() and a formatted message
 * (integers, a string from .rodata, a task's comm), testing the bstr formatting and UNREG_BPF.
 */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

const volatile u64 exit_after = 10;
static const char who[] = "exit_bstr";
u64 nr_enq;
struct scx_emu_exit uei SEC(".data");

SCX_OP(eb_enqueue)
{
	struct task_struct *p = (void *)ctx[0];
	u64 n = __sync_add_and_fetch(&nr_enq, 1);

	if (n == exit_after)
		scx_bpf_exit(42, "%s: %llu enqueues, last pid %d comm %s hex 0x%llx", (u64)who, n, p->pid, (u64)p->comm, 255ULL);
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, ctx[1]);
	return 0;
}

SCX_OP(eb_exit)
{
	struct scx_exit_info *ei = (void *)ctx[0];

	SCX_EMU_EXIT_RECORD(uei, ei);
	return 0;
}

SCX_OPS_TABLE(eb_ops) = {
	.enqueue = (void *)eb_enqueue,
	.exit = (void *)eb_exit,
	.name = "exit_bstr",
};
