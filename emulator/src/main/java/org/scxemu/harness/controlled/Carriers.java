// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.controlled;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * What runs a controlled run's participants: virtual threads on one carrier when the JVM has
 * them and they cannot pin their carrier at a hand-over, else platform threads.
 *
 * <p>A controlled run has one runner at a time by construction, so its hand-overs are pure thread
 * switches. Between platform threads a switch is an OS wake-up plus a park (tens of µs on a busy
 * 2-core host); between virtual threads on one carrier it is a continuation switch on that
 * carrier. The project builds and runs on Java 17, which has no virtual threads, so they are
 * reached reflectively ({@code Thread.ofVirtual()}) and used only when:
 * <ul>
 *   <li>the JVM is 24 or newer: from 24 a virtual thread that parks inside {@code synchronized}
 *       unmounts instead of pinning its carrier, and with a single carrier a pinned park would
 *       stop every participant;
 *   <li>{@code -Dscxemu.controlled.threads=platform} does not ask for platform threads.
 * </ul>
 * One carrier: before the first virtual thread is made, {@code jdk.virtualThreadScheduler.parallelism}
 * is set to 1 unless the user set it, so the chooser's unpark of the next participant queues it on
 * the same carrier instead of waking a second one. If virtual threads were made earlier in the JVM
 * the setting is ignored; that costs speed, never correctness (only the turn holder runs).
 *
 * <p>Threads: {@link #virtualAvailable} and {@link #newVirtual} may be called from any thread;
 * the lookup is made once, in the class initialiser.
 */
public final class Carriers {
    /** The system property that chooses: {@code virtual} (the default where available) or {@code platform}. */
    public static final String PROPERTY = "scxemu.controlled.threads";
    /** The first JVM whose virtual threads do not pin their carrier in {@code synchronized}. */
    static final int MIN_FEATURE = 24;

    /** {@code Thread.ofVirtual()}, or null when the JVM has none (or is too old). */
    private static final MethodHandle OF_VIRTUAL;
    /** {@code Thread.Builder.name(String)} and {@code Thread.Builder.unstarted(Runnable)}. */
    private static final MethodHandle NAME;
    private static final MethodHandle UNSTARTED;

    static {
        MethodHandle of = null;
        MethodHandle name = null;
        MethodHandle unstarted = null;
        if (Runtime.version().feature() >= MIN_FEATURE) {
            try {
                MethodHandles.Lookup l = MethodHandles.publicLookup();
                Class<?> builder = Class.forName("java.lang.Thread$Builder");
                of = l.findStatic(Thread.class, "ofVirtual", MethodType.methodType(
                        Class.forName("java.lang.Thread$Builder$OfVirtual")));
                name = l.findVirtual(builder, "name", MethodType.methodType(builder, String.class));
                unstarted = l.findVirtual(builder, "unstarted", MethodType.methodType(Thread.class, Runnable.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                of = null;
            }
        }
        OF_VIRTUAL = of;
        NAME = name;
        UNSTARTED = unstarted;
    }

    private Carriers() {
    }

    /** Whether a controlled run started now gets virtual threads. */
    public static boolean virtualAvailable() {
        return OF_VIRTUAL != null && !"platform".equals(System.getProperty(PROPERTY));
    }

    /** A name for the console and the JSON: {@code virtual} or {@code platform}. */
    public static String kind() {
        return virtualAvailable() ? "virtual" : "platform";
    }

    /**
     * Runs {@code driver} (a controlled run: the thread that calls {@link Controller#runUntil}) on
     * a virtual thread of the participants' carrier and waits for it, when they are virtual: then
     * a return to the driver (after each action of a stress run, each simulated second) is a
     * continuation switch too, not an OS wake-up of a platform thread and of the carrier. Else it
     * runs {@code driver} on the calling thread. What {@code driver} throws is thrown here.
     */
    public static <T> T drive(java.util.function.Supplier<T> driver) {
        if (!virtualAvailable()) {
            return driver.get();
        }
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = newVirtual("controlled-driver", () -> {
            try {
                result[0] = driver.get();
            } catch (RuntimeException | Error e) {
                failure[0] = e;
            }
        });
        t.start();
        boolean interrupted = false;
        for (;;) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        // join() orders everything the driver wrote before this read
        if (failure[0] instanceof RuntimeException) {
            throw (RuntimeException) failure[0];
        }
        if (failure[0] != null) {
            throw (Error) failure[0];
        }
        @SuppressWarnings("unchecked")
        T r = (T) result[0];
        return r;
    }

    /** An unstarted virtual thread named {@code name} running {@code body}; {@link #virtualAvailable} must be true. */
    static Thread newVirtual(String name, Runnable body) {
        if (System.getProperty("jdk.virtualThreadScheduler.parallelism") == null) {
            System.setProperty("jdk.virtualThreadScheduler.parallelism", "1");
        }
        try {
            Object b = OF_VIRTUAL.invoke();
            b = NAME.invoke(b, name);
            return (Thread) UNSTARTED.invoke(b, body);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot make a virtual thread", t);
        }
    }
}
