/* SPDX-License-Identifier: GPL-2.0-only */
/* fault_loop: dispatch never returns (the verifier would refuse the unbounded loop). */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

volatile u64 spins;

SCX_OP(loop_dispatch)
{
	while (spins != ~0ULL)
		spins++;
	return 0;
}

SCX_OPS_TABLE(loop_ops) = {
	.dispatch = (void *)loop_dispatch,
	.name = "fault_loop",
};
