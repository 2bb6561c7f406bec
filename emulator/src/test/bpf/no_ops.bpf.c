/* SPDX-License-Identifier: GPL-2.0-only */
/* no_ops: a valid BPF object with a program but no sched_ext_ops table; the load must be refused. */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

SCX_OP(lonely_enqueue)
{
	return 0;
}
