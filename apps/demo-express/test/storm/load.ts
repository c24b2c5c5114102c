/**
 * The storm's HTTP load: signups sent open-loop at a fixed rate, round-robin over the
 * instances in rotation at that moment, like a load balancer. A share of them reuse an
 * earlier email (in upper case) on purpose, to get 409s whose transaction must roll back.
 * Failures from killed instances and the Postgres restart are expected and counted: what a
 * signup that failed that way left behind is judged from the database, never from here.
 */

export interface LoadOptions {
  /** The origins in rotation right now. */
  targets(): string[];
  perSecond: number;
  durationMs: number;
  /** Share of signups that reuse an earlier email (0..1). */
  duplicates: number;
  /** Distinguishes this run's emails. */
  tag: string;
  /** Per-request bound; a request still open then counts as timed out. */
  requestTimeoutMs?: number;
  /** Requests open at once beyond which a tick is skipped (counted), so a stall cannot pile up. */
  maxInFlight?: number;
  /** Ends the load early (the test failed and is cleaning up). */
  signal?: AbortSignal;
}

export interface LoadResult {
  sent: number;
  /** Of `sent`, the ones sent by `burst()`. */
  bursts: number;
  /** Ids answered with 201. */
  created: string[];
  conflicts: number;
  /** 5xx answers, by status. */
  serverErrors: Map<number, number>;
  /** Connection refused/reset, sockets closed mid-answer, by error code. */
  connectionErrors: Map<string, number>;
  timeouts: number;
  /** Any other answer (a 4xx other than 409): the load only sends valid bodies. */
  unexpected: Map<number, number>;
  /** Ticks skipped because maxInFlight requests were open, or no instance was in rotation. */
  skipped: number;
}

/** The load: `run()` is the steady schedule; `burst(n)` adds n signups at once on top of it. */
export class SignupLoad {
  readonly result: LoadResult = {
    sent: 0,
    bursts: 0,
    created: [],
    conflicts: 0,
    serverErrors: new Map(),
    connectionErrors: new Map(),
    timeouts: 0,
    unexpected: new Map(),
    skipped: 0,
  };
  private readonly emails: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private next = 0;
  private serial = 0;

  constructor(private readonly options: LoadOptions) {}

  /** Sends signups on schedule for `durationMs`, then waits for every answer (each bounded). */
  async run(): Promise<LoadResult> {
    const { maxInFlight = 300 } = this.options;
    const period = 1000 / this.options.perSecond;
    const start = performance.now();
    for (let i = 0; ; i++) {
      // The load schedule itself: tick i is due at start + i * period.
      const due = start + i * period;
      if (due - start >= this.options.durationMs || this.options.signal?.aborted) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (this.inFlight.size >= maxInFlight || !this.send()) this.result.skipped++;
    }
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    return this.result;
  }

  /** Sends `n` signups at once (answers are awaited by `run()`). */
  burst(n: number): void {
    for (let i = 0; i < n; i++) if (this.send()) this.result.bursts++;
  }

  private send(): boolean {
    const targets = this.options.targets();
    if (targets.length === 0) return false;
    const origin = targets[this.next++ % targets.length]!;
    const reuse = this.emails.length > 0 && Math.random() < this.options.duplicates;
    const email = reuse
      ? this.emails[Math.floor(Math.random() * this.emails.length)]!.toUpperCase()
      : `storm-${this.options.tag}-${this.serial++}@example.com`;
    if (!reuse) this.emails.push(email);
    this.result.sent++;
    const timeout = this.options.requestTimeoutMs ?? 10_000;
    const request = signup(origin, email, timeout, this.result).finally(() => this.inFlight.delete(request));
    this.inFlight.add(request);
    return true;
  }
}

async function signup(origin: string, email: string, timeoutMs: number, result: LoadResult): Promise<void> {
  try {
    const res = await fetch(`${origin}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, name: 'Storm' }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json().catch(() => null)) as { id?: unknown } | null;
    if (res.status === 201) {
      // A 201 cut off before its body arrived tells nothing more than a reset connection.
      if (typeof body?.id === 'string') result.created.push(body.id);
      else bump(result.connectionErrors, '201 without a body');
    } else if (res.status === 409) result.conflicts++;
    else if (res.status >= 500) bump(result.serverErrors, res.status);
    else bump(result.unexpected, res.status);
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') result.timeouts++;
    else bump(result.connectionErrors, e.cause?.code ?? e.name);
  }
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export const total = (map: Map<unknown, number>) => [...map.values()].reduce((a, b) => a + b, 0);

export const describeCounts = (map: Map<unknown, number>) =>
  map.size === 0 ? 'none' : [...map].map(([k, n]) => `${k} ${n}`).join(', ');
