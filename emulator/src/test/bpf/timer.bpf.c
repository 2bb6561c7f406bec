/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * timer: the loader-side features the kernel's scx_central leans on. A bpf_timer in an array map
 * re-arms itself every millisecond; its callback walks every CPU with bpf_loop() over
 * nr_cpu_ids (a .rodata constant the loader fills) and marks each in a per-CPU-sized array that
 * lives alone in its own .data section (grown by the loader, as RESIZABLE_ARRAY is). enqueue
 * counts through an array-of-maps and a per-CPU array read back with bpf_map_lookup_percpu_elem().
 */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

const volatile u32 nr_cpu_ids = 1;
u64 cpu_seen[1] SEC(".data.cpu_seen");
u64 nr_timer_fires, nr_loop_calls, nr_percpu_sum;

struct timer_wrapper {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct timer_wrapper);
} timers SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} inner0 SEC(".maps"), inner1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner0, [1] = &inner1 },
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} pcpu SEC(".maps");

static long mark_cpu(u64 i, void *ctx)
{
	if (i < nr_cpu_ids)
		cpu_seen[i]++;
	__sync_fetch_and_add(&nr_loop_calls, 1);
	return 0;
}

static int timerfn(void *map, int *key, struct bpf_timer *timer)
{
	u64 sum = 0;
	u32 zero = 0;
	u32 cpu;

	__sync_fetch_and_add(&nr_timer_fires, 1);
	bpf_loop(nr_cpu_ids, mark_cpu, NULL, 0);
	for (cpu = 0; cpu < 64 && cpu < nr_cpu_ids; cpu++) {
		u64 *v = bpf_map_lookup_percpu_elem(&pcpu, &zero, cpu);
		if (v)
			sum += *v;
	}
	nr_percpu_sum = sum;
	bpf_timer_start(timer, 1000000, 0);
	return 0;
}

SCX_OP(tm_enqueue)
{
	struct task_struct *p = (void *)ctx[0];
	u32 zero = 0, which = p->pid & 1;
	void *inner = bpf_map_lookup_elem(&outer, &which);
	u64 *cnt;

	if (inner) {
		cnt = bpf_map_lookup_elem(inner, &zero);
		if (cnt)
			__sync_fetch_and_add(cnt, 1);
	}
	cnt = bpf_map_lookup_elem(&pcpu, &zero);
	if (cnt)
		(*cnt)++;
	scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, ctx[1]);
	return 0;
}

SCX_OP_SLEEPABLE(tm_init)
{
	u32 zero = 0;
	struct timer_wrapper *tw = bpf_map_lookup_elem(&timers, &zero);

	if (!tw)
		return -2;
	bpf_timer_init(&tw->timer, &timers, 1);
	bpf_timer_set_callback(&tw->timer, timerfn);
	return bpf_timer_start(&tw->timer, 1000000, 0);
}

SCX_OPS_TABLE(timer_ops) = {
	.enqueue = (void *)tm_enqueue,
	.init = (void *)tm_init,
	.name = "timer",
};
