/* SPDX-License-Identifier: GPL-2.0-only */
/* bad_kfunc: calls a kfunc no kernel profile has; the load must be refused naming it. */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

void scx_bpf_no_such_kfunc(u64 x) __ksym;

SCX_OP(bk_enqueue)
{
	struct task_struct *p = (void *)ctx[0];

	scx_bpf_no_such_kfunc(1);
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, ctx[1]);
	return 0;
}

SCX_OPS_TABLE(bk_ops) = {
	.enqueue = (void *)bk_enqueue,
	.name = "bad_kfunc",
};
