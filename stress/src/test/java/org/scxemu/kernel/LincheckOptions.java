// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import org.jetbrains.kotlinx.lincheck.strategy.managed.modelchecking.ModelCheckingOptions;

/** The model-checking set-up every Lincheck test here shares: 2 threads x 2 operations, 1 before, 1 after. */
final class LincheckOptions {
    private LincheckOptions() {
    }

    /** {@code iterations} scenarios of {@code invocations} interleavings, checked against {@code spec}. */
    static ModelCheckingOptions of(Class<?> spec, int iterations, int invocations) {
        return new ModelCheckingOptions()
                .iterations(iterations)
                .invocationsPerIteration(invocations)
                .threads(2)
                .actorsPerThread(2)
                .actorsBefore(1)
                .actorsAfter(1)
                .sequentialSpecification(spec);
    }
}
