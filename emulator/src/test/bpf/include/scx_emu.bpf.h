/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF-side toolkit of scx-emu's own test schedulers: section and map-definition macros, the
 * helper prototypes (by helper id) and the kfunc declarations they use. Written for the fixtures;
 * upstream schedulers bring their own headers and only share vmlinux.h.
 */
#ifndef __SCX_EMU_BPF_H
#define __SCX_EMU_BPF_H

#include "vmlinux.h"

#define SEC(name) __attribute__((section(name), used))
#define __ksym __attribute__((section(".ksyms")))
#define __weak __attribute__((weak))
#define __always_inline inline __attribute__((always_inline))
#define __noinline __attribute__((noinline))

/* BTF-defined map members: the value is carried by the member's type. */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) __typeof__(val) *name
#define __array(name, val) __typeof__(val) *name[]

/* A struct_ops program: its arguments arrive as an array of u64 in ctx. */
#define SCX_OP(name) SEC("struct_ops/" #name) int name(unsigned long long *ctx)
#define SCX_OP_SLEEPABLE(name) SEC("struct_ops.s/" #name) int name(unsigned long long *ctx)
#define SCX_OPS_TABLE(name) SEC(".struct_ops.link") struct sched_ext_ops name

/* Helpers, by the id the kernel gives them. */
static void *(* const bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (* const bpf_map_update_elem)(void *map, const void *key, const void *value, u64 flags) = (void *)2;
static long (* const bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static u64 (* const bpf_ktime_get_ns)(void) = (void *)5;
static long (* const bpf_trace_printk)(const char *fmt, u32 fmt_size, ...) = (void *)6;
static u32 (* const bpf_get_prandom_u32)(void) = (void *)7;
static u32 (* const bpf_get_smp_processor_id)(void) = (void *)8;
static long (* const bpf_map_push_elem)(void *map, const void *value, u64 flags) = (void *)87;
static long (* const bpf_map_pop_elem)(void *map, void *value) = (void *)88;
static long (* const bpf_map_peek_elem)(void *map, void *value) = (void *)89;
static long (* const bpf_spin_lock)(struct bpf_spin_lock *lock) = (void *)93;
static long (* const bpf_spin_unlock)(struct bpf_spin_lock *lock) = (void *)94;
static long (* const bpf_probe_read_kernel)(void *dst, u32 size, const void *src) = (void *)113;
static long (* const bpf_probe_read_kernel_str)(void *dst, u32 size, const void *src) = (void *)115;
static void *(* const bpf_task_storage_get)(void *map, struct task_struct *task, void *value, u64 flags) = (void *)156;
static long (* const bpf_task_storage_delete)(void *map, struct task_struct *task) = (void *)157;
static long (* const bpf_timer_init)(struct bpf_timer *timer, void *map, u64 flags) = (void *)169;
static long (* const bpf_timer_set_callback)(struct bpf_timer *timer, void *callback_fn) = (void *)170;
static long (* const bpf_timer_start)(struct bpf_timer *timer, u64 nsecs, u64 flags) = (void *)171;
static long (* const bpf_timer_cancel)(struct bpf_timer *timer) = (void *)172;
static long (* const bpf_loop)(u32 nr_loops, void *callback_fn, void *callback_ctx, u64 flags) = (void *)181;
static void *(* const bpf_map_lookup_percpu_elem)(void *map, const void *key, u32 cpu) = (void *)195;

#define bpf_printk(fmt, args...) \
	({ static const char ____fmt[] = fmt; bpf_trace_printk(____fmt, sizeof(____fmt), ##args); })

/* kfuncs */
s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
s32 scx_bpf_select_cpu_dfl(struct task_struct *p, s32 prev_cpu, u64 wake_flags, bool *is_idle) __ksym;
void scx_bpf_dispatch(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym;
void scx_bpf_dispatch_vtime(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime, u64 enq_flags) __ksym;
u32 scx_bpf_dispatch_nr_slots(void) __ksym;
bool scx_bpf_consume(u64 dsq_id) __ksym;
u32 scx_bpf_reenqueue_local(void) __ksym;
void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;
s32 scx_bpf_dsq_nr_queued(u64 dsq_id) __ksym;
void scx_bpf_exit_bstr(s64 exit_code, char *fmt, unsigned long long *data, u32 data__sz) __ksym;
void scx_bpf_error_bstr(char *fmt, unsigned long long *data, u32 data_len) __ksym;
void scx_bpf_dump_bstr(char *fmt, unsigned long long *data, u32 data_len) __ksym;
u32 scx_bpf_nr_cpu_ids(void) __ksym;
const struct cpumask *scx_bpf_get_idle_cpumask(void) __ksym;
void scx_bpf_put_idle_cpumask(const struct cpumask *cpumask) __ksym;
s32 scx_bpf_pick_idle_cpu(const cpumask_t *cpus_allowed, u64 flags) __ksym;
s32 scx_bpf_task_cpu(const struct task_struct *p) __ksym;
struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;
bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;
int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;
void bpf_rcu_read_lock(void) __ksym;
void bpf_rcu_read_unlock(void) __ksym;

/* scx_bpf_error("fmt", args...): the arguments travel as an array of u64, as the kernel's do. */
#define scx_emu_bstr_call(call, fmt, args...)						\
	({										\
		static char ___fmt[] = fmt;						\
		unsigned long long ___param[] = { 0, ##args };				\
		call(___fmt, &___param[1], sizeof(___param) - sizeof(___param[0]));	\
	})
#define scx_bpf_error(fmt, args...) scx_emu_bstr_call(scx_bpf_error_bstr, fmt, ##args)
#define scx_bpf_dump(fmt, args...) scx_emu_bstr_call(scx_bpf_dump_bstr, fmt, ##args)
#define scx_bpf_exit(code, fmt, args...)						\
	({										\
		static char ___fmt[] = fmt;						\
		unsigned long long ___param[] = { 0, ##args };				\
		scx_bpf_exit_bstr(code, ___fmt, &___param[1],				\
				  sizeof(___param) - sizeof(___param[0]));		\
	})

/* What ops.exit() records for the loader's exit report. */
struct scx_emu_exit {
	int kind;
	s64 exit_code;
	char reason[128];
	char msg[1024];
};

#define SCX_EMU_EXIT_RECORD(rec, ei)							\
	do {										\
		bpf_probe_read_kernel_str((rec).reason, sizeof((rec).reason), (ei)->reason); \
		bpf_probe_read_kernel_str((rec).msg, sizeof((rec).msg), (ei)->msg);	\
		(rec).exit_code = (ei)->exit_code;					\
		__sync_val_compare_and_swap(&(rec).kind, 0, (ei)->kind);		\
	} while (0)

#endif /* __SCX_EMU_BPF_H */
