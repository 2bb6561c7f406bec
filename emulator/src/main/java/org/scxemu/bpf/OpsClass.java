// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicInteger;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.scxemu.scx.SchedExtOps;

/**
 * Generates, for one BPF object, a subclass of {@link BpfOps} that overrides exactly the ops the
 * object's {@code sched_ext_ops} table names. The kernel decides op presence (SCX_HAS_OP) from
 * which {@link SchedExtOps} methods a scheduler class declares; a generated class makes that set
 * the object's, so an absent op is the kernel's absent op and not a call that does nothing.
 * Each override only forwards to {@code BpfOps.bpf_<op>} with the same arguments.
 */
final class OpsClass {
    private OpsClass() {
    }

    private static final AtomicInteger SEQ = new AtomicInteger();

    /** A loader per generated class, child of the emulator's. */
    private static final class Loader extends ClassLoader {
        Loader() {
            super(OpsClass.class.getClassLoader());
        }

        Class<?> define(String name, byte[] b) {
            return defineClass(name, b, 0, b.length);
        }
    }

    static BpfOps instantiate(BpfObject obj, Vm vm) {
        String name = "org.scxemu.bpf.gen.BpfOps$" + SEQ.incrementAndGet();
        String internal = name.replace('.', '/');
        String superName = Type.getInternalName(BpfOps.class);
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, internal, null, superName,
                null);
        String ctorDesc = Type.getMethodDescriptor(Type.VOID_TYPE, Type.getType(BpfObject.class),
                Type.getType(Vm.class));
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC, "<init>", ctorDesc, null, null);
        mv.visitCode();
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitVarInsn(Opcodes.ALOAD, 1);
        mv.visitVarInsn(Opcodes.ALOAD, 2);
        mv.visitMethodInsn(Opcodes.INVOKESPECIAL, superName, "<init>", ctorDesc, false);
        mv.visitInsn(Opcodes.RETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        for (Method m : SchedExtOps.class.getDeclaredMethods()) {
            if (!m.isDefault()) {
                continue;
            }
            String kname = m.getName().replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
            int op = BpfOps.opIndex(kname);
            if (op < 0 || !obj.opsTable.ops.containsKey(kname)) {
                continue;
            }
            String desc = Type.getMethodDescriptor(m);
            mv = cw.visitMethod(Opcodes.ACC_PUBLIC, m.getName(), desc, null, null);
            mv.visitCode();
            mv.visitVarInsn(Opcodes.ALOAD, 0);
            int slot = 1;
            for (Type a : Type.getArgumentTypes(m)) {
                mv.visitVarInsn(a.getOpcode(Opcodes.ILOAD), slot);
                slot += a.getSize();
            }
            mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, superName, "bpf_" + m.getName(), desc, false);
            mv.visitInsn(Type.getReturnType(m).getOpcode(Opcodes.IRETURN));
            mv.visitMaxs(0, 0);
            mv.visitEnd();
        }
        cw.visitEnd();
        try {
            Class<?> c = new Loader().define(name, cw.toByteArray());
            Constructor<?> k = c.getConstructor(BpfObject.class, Vm.class);
            return (BpfOps) k.newInstance(obj, vm);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot generate the ops class of " + obj.path, e);
        }
    }
}
