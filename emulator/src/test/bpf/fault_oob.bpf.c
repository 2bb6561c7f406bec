/* SPDX-License-Identifier: GPL-2.0-only */
/* fault_oob: enqueue writes past the end of an array map's value (the verifier would refuse). */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} slots SEC(".maps");

SCX_OP(oob_enqueue)
{
	struct task_struct *p = (void *)ctx[0];
	u32 zero = 0;
	u64 *v = bpf_map_lookup_elem(&slots, &zero);

	if (v)
		v[p->pid + 64] = 1;
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, ctx[1]);
	return 0;
}

SCX_OPS_TABLE(oob_ops) = {
	.enqueue = (void *)oob_enqueue,
	.name = "fault_oob",
};
