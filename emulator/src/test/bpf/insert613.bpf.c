/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * insert613: a global FIFO written with the 6.13 kfunc names (scx_bpf_dsq_insert,
 * scx_bpf_dsq_move_to_local). Kernels before 6.13 do not have them: the load must be refused
 * under --kernel 6.12 and v7, and succeed under 6.16.
 */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

void scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym;
bool scx_bpf_dsq_move_to_local(u64 dsq_id) __ksym;

u64 nr_inserted;

SCX_OP(ins_enqueue)
{
	struct task_struct *p = (void *)ctx[0];

	__sync_fetch_and_add(&nr_inserted, 1);
	scx_bpf_dsq_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, ctx[1]);
	return 0;
}

SCX_OP(ins_dispatch)
{
	scx_bpf_dsq_move_to_local(SCX_DSQ_GLOBAL);
	return 0;
}

SCX_OPS_TABLE(ins_ops) = {
	.enqueue = (void *)ins_enqueue,
	.dispatch = (void *)ins_dispatch,
	.name = "insert613",
};
