// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MutableCallSite;

/**
 * A static key ({@code DEFINE_STATIC_KEY_FALSE}): a boolean that the JIT folds to a constant and
 * deoptimises on change, so that a disabled key costs nothing on the hot path.
 *
 * <p>The key <em>is</em> a {@link MutableCallSite} whose target is a constant method handle.
 * HotSpot's C2 treats {@code CallSite.target} as a compile-time constant whenever the call site
 * object itself is one, and records a dependency on it. So when the key sits in a
 * {@code static final} field (always a constant to C2), {@code KEY.enabled()} inlines through
 * {@link #getTarget()} and {@code invokeExact} to the constant, exactly like a patched jump label.
 * Flipping the key re-targets the call site and calls {@link MutableCallSite#syncAll}, which
 * deoptimises every compiled method that folded the old value: the {@code static_branch_enable()}
 * text patch. A key reached through a non-final field is not folded (an out-of-line handle call).
 *
 * <p>Why a subclass and not a record holding the call site: C2 folds a final instance field only in
 * trusted classes (records, hidden classes, {@code java.lang.invoke}), and a record is what this
 * was; but Lincheck 2.39's model checker reads the static fields of every class it meets with
 * {@code Unsafe.staticFieldBase}, which throws for a record ("can't get base address on a record
 * class"), so no model-checking test could run the real kernel code. The call site's own
 * {@code target} needs no trusted holder. Only {@link #set} re-targets the key (the inherited
 * {@link #setTarget} throws): it is the one path that also calls {@code syncAll}.
 *
 * <p>Memory consistency effects: {@link #enable()} and {@link #disable()} are serialised by the
 * caller (the kernel's enable mutex); a thread that observes the new value through
 * {@link #enabled()} after {@code syncAll} also observes everything the flipping thread wrote
 * before the flip ({@code syncAll} is a full fence on every thread's view of the call site).
 */
public final class StaticKey extends MutableCallSite {
    private static final MethodHandle TRUE = MethodHandles.constant(boolean.class, true);
    private static final MethodHandle FALSE = MethodHandles.constant(boolean.class, false);

    /** The kernel's name for the key, for diagnostics. */
    private final String name;

    private StaticKey(String name) {
        super(FALSE);
        this.name = name;
    }

    /** DEFINE_STATIC_KEY_FALSE(name) */
    public static StaticKey defineFalse(String name) {
        return new StaticKey(name);
    }

    /** The kernel's name for the key. */
    public String name() {
        return name;
    }

    /** static_branch_unlikely() / static_branch_likely(): the current value, JIT-folded. */
    public boolean enabled() {
        try {
            return (boolean) getTarget().invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** static_branch_enable() */
    public void enable() {
        set(true);
    }

    /** static_branch_disable() */
    public void disable() {
        set(false);
    }

    /** Sets the key, deoptimising code that folded the old value. */
    public void set(boolean on) {
        if (enabled() == on) {
            return;
        }
        super.setTarget(on ? TRUE : FALSE);
        MutableCallSite.syncAll(new MutableCallSite[] {this});
    }

    /** Not for keys: a re-target without {@code syncAll} could leave stale folded code. Use {@link #set}. */
    @Override
    public void setTarget(MethodHandle newTarget) {
        throw new UnsupportedOperationException("StaticKey " + name + ": use set(boolean)");
    }

    @Override
    public String toString() {
        return "StaticKey[" + name + "=" + enabled() + "]";
    }
}
