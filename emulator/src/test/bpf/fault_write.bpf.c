/* SPDX-License-Identifier: GPL-2.0-only */
/* fault_write: enqueue writes p->pid, a field BPF may not write. */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

SCX_OP(wr_enqueue)
{
	struct task_struct *p = (void *)ctx[0];

	p->pid = 1;
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, ctx[1]);
	return 0;
}

SCX_OPS_TABLE(wr_ops) = {
	.enqueue = (void *)wr_enqueue,
	.name = "fault_write",
};
