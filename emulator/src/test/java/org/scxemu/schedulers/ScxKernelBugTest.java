// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.schedulers.SchedTestSupport.MS;
import static org.scxemu.schedulers.SchedTestSupport.awaitExit;
import static org.scxemu.scx.Scx.SCX_EXIT_NONE;
import static org.scxemu.scx.Scx.scx_bpf_dump;
import static org.scxemu.scx.Scx.scx_bpf_error;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;

/**
 * Kernel-side bugs found while porting the example schedulers, each as a minimal reproduction
 * (the kernel side is not ours to edit). A test here fails while its bug is present and stays as a
 * regression test once it is fixed.
 */
class ScxKernelBugTest {

    /**
     * scx_bpf_dump() must build one dump line from several calls: the kernel appends each
     * formatted piece to a line buffer and flushes it only when it ends in '\n' (or overflows),
     * and flushes what is left when the dump op returns (scx_bpf_dump_bstr() and
     * ops_dump_flush() in v7 and 6.12). scx_qmap's ops.dump() relies on it:
     * {@code "QMAP FIFO[%d]:"}, then {@code " %d"} per pid, then {@code "\n"}. Kfuncs.dump() used
     * to append a newline to every piece that lacked one, splitting the line.
     */
    @Test
    void scxBpfDumpJoinsPiecesIntoOneLine() {
        SchedExtOps ops = new SchedExtOps() {
            @Override
            public String name() {
                return "dumpline";
            }

            @Override
            public void running(Task p) {
                scx_bpf_error("trigger a dump");
            }

            @Override
            public void dump(DumpCtx ctx) {
                scx_bpf_dump("QMAP FIFO[%d]:", 0);
                scx_bpf_dump(" %d", 7);
                scx_bpf_dump(" %d", 8);
                scx_bpf_dump("\n");
            }
        };
        try (Machine m = Machine.threaded(1)) {
            assertEquals(0, m.load(ops));
            m.start();
            m.kernel().fork(new Kernel.TaskSpec().comm("victim")); // its first ops.running() errors
            assertTrue(awaitExit(m, 5_000 * MS), "scx_bpf_error() did not eject the scheduler");
            m.stop();
            String dump = m.ext().exitInfo().dump();
            assertTrue(Arrays.asList(dump.split("\n")).contains("QMAP FIFO[0]: 7 8"),
                    "expected the line \"QMAP FIFO[0]: 7 8\" in the dump:\n" + dump);
        }
    }

    /**
     * Ext.awaitDisabled() promises to wait "until the scheduler is fully disabled (after an error
     * or unload)", but it only flushes the helper's queue. scx_ops_exit_kind() first wins the
     * exit-kind cmpxchg, then fills in the exit info (message, backtrace) and only then queues the
     * dump + disable work, so a caller that sees exitKind() != NONE and calls awaitDisabled() in
     * that window returns at once, before the disable and ops.exit() ran. The message is
     * formatted inside the window, so an argument whose toString() is slow holds it open and makes
     * the reproduction deterministic.
     */
    @Test
    void awaitDisabledWaitsForTheDisableAfterAnError() throws InterruptedException {
        for (int attempt = 0; attempt < 3; attempt++) {
            AtomicBoolean exitCalled = new AtomicBoolean();
            SchedExtOps ops = new SchedExtOps() {
                @Override
                public String name() {
                    return "awaitdisabled";
                }

                @Override
                public void exit(ExitInfo info) {
                    exitCalled.set(true);
                }
            };
            try (Machine m = Machine.threaded(1)) {
                assertEquals(0, m.load(ops));
                m.start();
                // the message is formatted inside the window: a slow argument holds the window open
                Object slow = new Object() {
                    @Override
                    public String toString() {
                        LockSupport.parkNanos(100 * MS);
                        return "slow";
                    }
                };
                Thread t = new Thread(() -> scx_bpf_error("error from another thread: %s", slow), "erring");
                t.start();
                while (m.ext().exitKind() == SCX_EXIT_NONE) {
                    Thread.onSpinWait();
                }
                m.ext().awaitDisabled();
                boolean done = exitCalled.get();
                t.join();
                assertTrue(done, "attempt " + attempt + ": awaitDisabled() returned before the disable ran ops.exit()");
            }
        }
    }
}
