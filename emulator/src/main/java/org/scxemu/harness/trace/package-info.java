// SPDX-License-Identifier: GPL-2.0-only
/**
 * Trace output: {@link org.scxemu.harness.trace.TraceRecorder} records the kernel's trace points
 * into per-CPU buffers during a run (each written only by its CPU's thread) and writes a Chrome
 * JSON trace (Perfetto, chrome://tracing) after the CPU threads are joined.
 */
package org.scxemu.harness.trace;
