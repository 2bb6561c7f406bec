/* SPDX-License-Identifier: GPL-2.0-only */
/* fault_null: dispatch reads prev->pid without checking that prev is not NULL. */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

u64 last_prev_pid;

SCX_OP(null_dispatch)
{
	struct task_struct *prev = (void *)ctx[1];

	last_prev_pid = prev->pid;
	scx_bpf_consume(SCX_DSQ_GLOBAL);
	return 0;
}

SCX_OPS_TABLE(null_ops) = {
	.dispatch = (void *)null_dispatch,
	.name = "fault_null",
};
