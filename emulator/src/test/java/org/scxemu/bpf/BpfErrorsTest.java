// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;

/**
 * Malformed objects are refused at load with one line naming the problem; run-time faults (what
 * the kernel's verifier would have refused) eject the scheduler with SCX_EXIT_ERROR and a message
 * naming the program, the instruction and the source line. No Java exception reaches the caller.
 */
class BpfErrorsTest {
    @TempDir
    Path tmp;

    private static String loadError(Path p) {
        BpfLoadException e = assertThrows(BpfLoadException.class,
                () -> BpfScheduler.load(p, new BpfScheduler.Options()));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void missingFile() {
        assertTrue(loadError(tmp.resolve("nope.bpf.o")).endsWith("nope.bpf.o: no such file"));
    }

    @Test
    void truncatedElf() throws Exception {
        byte[] b = Files.readAllBytes(BpfFixtures.obj("fifo"));
        for (int len : new int[] {0, 10, 63, 200, b.length / 2}) {
            Path p = tmp.resolve("trunc" + len + ".o");
            Files.write(p, java.util.Arrays.copyOf(b, len));
            String msg = loadError(p);
            assertTrue(msg.startsWith(p.toString() + ": "), msg);
        }
    }

    @Test
    void wrongMachine() throws Exception {
        byte[] b = Files.readAllBytes(BpfFixtures.obj("fifo"));
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putShort(18, (short) 62); // EM_X86_64
        Path p = tmp.resolve("x86.o");
        Files.write(p, b);
        assertTrue(loadError(p).endsWith("ELF machine 62 is not EM_BPF (247)"));
    }

    @Test
    void noStructOps() {
        assertTrue(loadError(BpfFixtures.obj("no_ops")).endsWith("no struct_ops section: not a sched_ext scheduler"));
    }

    @Test
    void unknownHelper() {
        assertTrue(loadError(BpfFixtures.obj("bad_helper")).endsWith("program bh_enqueue calls unknown helper 999"));
    }

    @Test
    void unknownKfunc() {
        assertTrue(loadError(BpfFixtures.obj("bad_kfunc")).endsWith(
                "program bk_enqueue calls kfunc scx_bpf_no_such_kfunc, which the emulator does not provide"));
    }

    @Test
    void kfuncTheProfileLacks() {
        BpfScheduler.Options o = new BpfScheduler.Options();
        o.profileLacks = java.util.Set.of("scx_bpf_select_cpu_dfl");
        BpfLoadException e = assertThrows(BpfLoadException.class,
                () -> BpfScheduler.load(BpfFixtures.obj("fifo"), o));
        assertTrue(e.getMessage().endsWith("program fifo_select_cpu calls kfunc scx_bpf_select_cpu_dfl, which the"
                + " chosen kernel profile lacks"), e.getMessage());
    }

    @Test
    void unknownRelocation() throws Exception {
        byte[] b = Files.readAllBytes(BpfFixtures.obj("fifo"));
        ElfFile elf = new ElfFile(b, "fifo");
        ElfFile.Section rel = elf.section(".relstruct_ops/fifo_enqueue");
        // first entry's r_info low word is the type: make it 77
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(rel.offset() + 8, 77);
        Path p = tmp.resolve("reloc.o");
        Files.write(p, b);
        String msg = loadError(p);
        assertTrue(msg.contains("unknown relocation type 77 at insn"), msg);
    }

    /** Runs {@code fixture} with a mixed load until it is ejected; returns the exit message. */
    private static String runUntilEjected(String fixture) throws Exception {
        SchedExtOps s = BpfFixtures.load(fixture, 2);
        try (Machine m = Machine.threaded(2)) {
            assertEquals(0, m.load(s));
            m.start();
            List<Task> tasks = BpfFixtures.mixed(m, 2, 2);
            assertTrue(BpfFixtures.awaitExit(m, 20_000 * BpfFixtures.MS), fixture + " was not ejected");
            m.stop();
            assertEquals("ERROR", m.ext().exitInfo().kindName(), m.ext().exitInfo().msg());
            assertTrue(m.kernel().bug() == null, "kernel bug: " + m.kernel().bug());
            assertTrue(tasks.size() == 4);
            return m.ext().exitInfo().msg();
        }
    }

    @Test
    void outOfBoundsMapValueAccess() throws Exception {
        String msg = runUntilEjected("fault_oob");
        assertTrue(msg.startsWith("program oob_enqueue: out-of-bounds store of 8 bytes at offset "), msg);
        assertTrue(msg.contains("of slots[0] (8 bytes) at insn "), msg);
        assertTrue(msg.contains("(fault_oob.bpf.c:21: v[p->pid + 64] = 1;)"), msg);
    }

    @Test
    void runawayLoop() throws Exception {
        String msg = runUntilEjected("fault_loop");
        assertTrue(msg.startsWith("program loop_dispatch: ran more than 1000000 instructions (an unbounded loop?)"),
                msg);
        assertTrue(msg.contains("fault_loop.bpf.c:1"), msg);
    }

    @Test
    void nullDereferenceOfNullablePrev() throws Exception {
        String msg = runUntilEjected("fault_null");
        // prev is NULL when the CPU has nothing to run; p->pid is at offset 72 of the model's task_struct
        assertTrue(msg.startsWith(
                "program null_dispatch: NULL pointer dereference (load of 4 bytes at NULL+72) at insn"), msg);
        assertTrue(msg.endsWith("(fault_null.bpf.c:13: last_prev_pid = prev->pid;)"), msg);
    }

    @Test
    void writeToReadOnlyTaskField() throws Exception {
        String msg = runUntilEjected("fault_write");
        assertTrue(msg.startsWith("program wr_enqueue: store to task_struct field pid, which BPF may not write"),
                msg);
        assertTrue(msg.contains("(fault_write.bpf.c:11: p->pid = 1;)"), msg);
    }

    @Test
    void exitBstrFormatsLikeTheKernel() throws Exception {
        SchedExtOps s = BpfFixtures.load("exit_bstr", 2);
        try (Machine m = Machine.threaded(2)) {
            assertEquals(0, m.load(s));
            m.start();
            BpfFixtures.mixed(m, 2, 2);
            assertTrue(BpfFixtures.awaitExit(m, 20_000 * BpfFixtures.MS));
            m.stop();
            assertEquals("UNREG_BPF", m.ext().exitInfo().kindName());
            assertEquals(42, m.ext().exitInfo().exitCode());
            String msg = m.ext().exitInfo().msg();
            assertTrue(msg.matches("exit_bstr: 10 enqueues, last pid \\d+ comm \\w+ hex 0xff"), msg);
            assertEquals("EXIT: unregistered from BPF (" + msg + ")", BpfScheduler.exitReport(s));
        }
    }
}
