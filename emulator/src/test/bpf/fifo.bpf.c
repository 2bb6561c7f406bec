/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fifo: every task goes to the global DSQ in arrival order; a wakeup that finds an idle CPU goes
 * straight to that CPU's local DSQ. Counts local and global dispatches per CPU (the nr_* stats),
 * records its exit for the loader's report. The smallest useful scheduler: select_cpu, enqueue,
 * init and exit, nothing else.
 */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

const volatile u64 slice_ns = SCX_SLICE_DFL;

struct scx_emu_exit uei SEC(".data");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u64));
	__uint(max_entries, 2);
} stats SEC(".maps");

u64 nr_enqueued;

static void stat_inc(u32 idx)
{
	u64 *cnt = bpf_map_lookup_elem(&stats, &idx);
	if (cnt)
		(*cnt)++;
}

SCX_OP(fifo_select_cpu)
{
	struct task_struct *p = (void *)ctx[0];
	s32 prev_cpu = ctx[1];
	u64 wake_flags = ctx[2];
	bool is_idle = false;
	s32 cpu;

	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle) {
		stat_inc(0);
		scx_bpf_dispatch(p, SCX_DSQ_LOCAL, slice_ns, 0);
	}
	return cpu;
}

SCX_OP(fifo_enqueue)
{
	struct task_struct *p = (void *)ctx[0];
	u64 enq_flags = ctx[1];

	stat_inc(1);
	__sync_fetch_and_add(&nr_enqueued, 1);
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, slice_ns, enq_flags);
	return 0;
}

SCX_OP_SLEEPABLE(fifo_init)
{
	return 0;
}

SCX_OP(fifo_exit)
{
	struct scx_exit_info *ei = (void *)ctx[0];

	SCX_EMU_EXIT_RECORD(uei, ei);
	return 0;
}

SCX_OPS_TABLE(fifo_ops) = {
	.select_cpu = (void *)fifo_select_cpu,
	.enqueue = (void *)fifo_enqueue,
	.init = (void *)fifo_init,
	.exit = (void *)fifo_exit,
	.name = "fifo",
};
