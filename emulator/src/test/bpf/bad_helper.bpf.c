/* SPDX-License-Identifier: GPL-2.0-only */
/* bad_helper: calls helper id 999, which does not exist; the load must be refused. */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

static long (* const bpf_no_such_helper)(u64 x) = (void *)999;

SCX_OP(bh_enqueue)
{
	struct task_struct *p = (void *)ctx[0];

	bpf_no_such_helper(1);
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, ctx[1]);
	return 0;
}

SCX_OPS_TABLE(bh_ops) = {
	.enqueue = (void *)bh_enqueue,
	.name = "bad_helper",
};
