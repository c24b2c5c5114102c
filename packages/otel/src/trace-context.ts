/**
 * The creation context a job carries: the W3C Trace Context fields (`traceparent`,
 * `tracestate`) of its enqueue span, in the job's meta under `trace`. Written and read here
 * rather than through the app's global propagator: a job must be readable by any worker
 * whatever propagator its process set up for HTTP (B3, Jaeger, none).
 */
import { createTraceState, type SpanContext, TraceFlags } from '@opentelemetry/api';

/** The job meta key @queue/otel reserves: `meta.trace = { traceparent, tracestate? }`. */
export const TRACE_META_KEY = 'trace';

export interface StoredTraceContext {
  traceparent: string;
  tracestate?: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function toStored(sc: SpanContext): StoredTraceContext {
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
  const stored: StoredTraceContext = { traceparent: `00-${sc.traceId}-${sc.spanId}-${flags}` };
  const state = sc.traceState?.serialize();
  if (state) stored.tracestate = state;
  return stored;
}

/** The span context a job's meta names, or undefined (none stored, or not one we can read). */
export function fromMeta(meta: Record<string, unknown> | undefined): SpanContext | undefined {
  const stored = meta?.[TRACE_META_KEY] as Partial<StoredTraceContext> | undefined;
  if (typeof stored?.traceparent !== 'string') return undefined;
  const m = TRACEPARENT.exec(stored.traceparent);
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  const sc: SpanContext = {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: Number.parseInt(m[3]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (typeof stored.tracestate === 'string' && stored.tracestate.length > 0) {
    sc.traceState = createTraceState(stored.tracestate);
  }
  return sc;
}
