package org.scxemu.kernel;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;

/**
 * A static key ({@code DEFINE_STATIC_KEY_FALSE}): a boolean that the JIT folds to a constant and
 * deoptimises on change, so that a disabled key costs nothing on the hot path.
 *
 * <p>It is a {@link MutableCallSite} whose target is a constant method handle. A record's final
 * fields are trusted as constants by HotSpot's C2, so when the key itself sits in a
 * {@code static final} field, {@code KEY.enabled()} compiles to the constant, exactly like a
 * patched jump label. Flipping the key re-targets the call site and calls
 * {@link MutableCallSite#syncAll}, which deoptimises every compiled method that folded the old
 * value: the {@code static_branch_enable()} text patch.
 *
 * <p>Memory consistency effects: {@link #enable()} and {@link #disable()} are serialised by the
 * caller (the kernel's enable mutex); a thread that observes the new value through
 * {@link #enabled()} after {@code syncAll} also observes everything the flipping thread wrote
 * before the flip ({@code syncAll} is a full fence on every thread's view of the call site).
 *
 * @param name the kernel's name for the key, for diagnostics
 * @param site the call site holding the current value
 * @param invoker {@code site.dynamicInvoker()}, the handle the hot path invokes
 */
public record StaticKey(String name, MutableCallSite site, MethodHandle invoker) {
    private static final MethodHandle TRUE = MethodHandles.constant(boolean.class, true);
    private static final MethodHandle FALSE = MethodHandles.constant(boolean.class, false);

    /** DEFINE_STATIC_KEY_FALSE(name) */
    public static StaticKey defineFalse(String name) {
        MutableCallSite site = new MutableCallSite(MethodType.methodType(boolean.class));
        site.setTarget(FALSE);
        return new StaticKey(name, site, site.dynamicInvoker());
    }

    /** static_branch_unlikely() / static_branch_likely(): the current value, JIT-folded. */
    public boolean enabled() {
        try {
            return (boolean) invoker.invokeExact();
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
        site.setTarget(on ? TRUE : FALSE);
        MutableCallSite.syncAll(new MutableCallSite[] {site});
    }
}
