import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Instrumentation } from '@queue/core';
import { queueInstrumentation } from '@queue/otel';

/**
 * How @queue runs in the tracing workload: `off`, no `instrumentation` option at all;
 * `simple`, @queue/otel with an SDK tracer provider exporting each span to memory as it ends
 * (SimpleSpanProcessor + InMemorySpanExporter, what the issue asks to measure); `batch`, the
 * same exporter behind a BatchSpanProcessor (its defaults), what a production setup uses.
 */
export type TracingMode = 'off' | 'simple' | 'batch';
export const TRACING_MODES: readonly TracingMode[] = ['off', 'simple', 'batch'];

export interface Tracing {
  instrumentation: Instrumentation;
  /** Spans exported so far, after flushing the processor. */
  spans(): Promise<number>;
  /** Empties the exporter, so its memory does not grow from one measurement to the next. */
  clear(): void;
  /** Unregisters the context manager; the provider's spans stay readable. */
  stop(): Promise<void>;
}

/**
 * A tracer provider and @queue/otel's instrumentation, with the AsyncLocalStorage context
 * manager registered globally as an app with the SDK has it (the job span is the handler's
 * active span through it).
 */
export function startTracing(mode: Exclude<TracingMode, 'off'>): Tracing {
  const exporter = new InMemorySpanExporter();
  const processor = mode === 'simple' ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    instrumentation: queueInstrumentation({ tracerProvider: provider }),
    async spans() {
      await provider.forceFlush();
      return exporter.getFinishedSpans().length;
    },
    clear: () => exporter.reset(),
    async stop() {
      await provider.forceFlush();
      context.disable();
    },
  };
}
