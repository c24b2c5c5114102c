import { defineTask, type Job, type JobContext, type Queue, type StandardSchemaV1 } from '@queue/core';
import { describe, expectTypeOf, it } from 'vitest';
import { InjectQueue, type NamedQueue, Processor, type RegisteredQueue, Task } from '../../src/index.js';

// A contract shared by producers and the processor that handles it.
const transcode = defineTask<{ file: string }>({ queue: 'audio', maxAttempts: 5 });
// A Standard Schema whose input and output differ: the handler gets the output.
declare const sizeSchema: StandardSchemaV1<{ size: string }, { size: number }>;
const resize = defineTask({ schema: sizeSchema });

describe('@Task() with a contract', () => {
  it('accepts a method taking the payload, with or without the context', () => {
    @Processor('audio')
    class Audio {
      @Task(transcode)
      async transcode(payload: { file: string }, ctx: JobContext<{ file: string }>) {
        expectTypeOf(ctx.job.payload.file).toEqualTypeOf<string>();
        return payload.file;
      }

      @Task('transcodeAgain', transcode)
      transcodeAgain(payload: { file: string }) {
        return payload.file.length;
      }

      // The untyped context still fits: JobContext<{ file: string }> is a JobContext.
      @Task('transcodeLoose', transcode)
      async loose({ file }: { file: string }, _ctx: JobContext) {
        void file;
      }
    }
    void Audio;
  });

  it('refuses a BullMQ-style handler, a wrong payload, a property and a non-contract', () => {
    @Processor('audio')
    class Ported {
      // @ts-expect-error: the handler gets the payload, not a Job: job.payload would be undefined
      @Task('transcode', transcode)
      async handle(job: Job<{ file: string }>) {
        return job.payload.file;
      }

      // @ts-expect-error: the contract's payload is { file: string }
      @Task(transcode)
      async wrongPayload(payload: { path: string }) {
        return payload.path;
      }

      // @ts-expect-error: the second parameter is the job's context
      @Task(transcode)
      async wrongContext(_payload: { file: string }, job: Job) {
        return job.id;
      }

      // @ts-expect-error: @Task() decorates methods only
      @Task(transcode)
      notAMethod = 1;
    }
    void Ported;
  });

  it("types the handler by the schema's output", () => {
    @Processor()
    class Images {
      @Task(resize)
      resize(payload: { size: number }) {
        return payload.size * 2;
      }

      // @ts-expect-error: the handler gets the output ({ size: number }), not the input
      @Task('resizeInput', resize)
      resizeInput(payload: { size: string }) {
        return payload.size;
      }
    }
    void Images;
  });

  it('keeps the untyped forms', () => {
    @Processor({ queue: 'mail', concurrency: 2 })
    class Mail {
      @Task('send', { maxAttempts: 3 })
      async send(job: Job) {
        return job;
      }

      @Task()
      async other(payload: unknown) {
        return payload;
      }
    }
    void Mail;
  });
});

describe('@Processor() and @InjectQueue(name)', () => {
  it('takes a queue with a concurrency', () => {
    @Processor('audio', { concurrency: 3 })
    class A {}
    void A;
    // @ts-expect-error: concurrency is a number
    @Processor('audio', { concurrency: 'three' })
    class B {}
    void B;
  });

  it('injects a NamedQueue typed by the registered tasks, or by the map you give', () => {
    class Uploads {
      constructor(
        @InjectQueue('audio') readonly audio: NamedQueue<{ transcode: typeof transcode }>,
        @InjectQueue() readonly queue: RegisteredQueue,
      ) {}

      async upload() {
        await this.audio.enqueue('transcode', { file: 'a.wav' });
        // @ts-expect-error: the contract's payload is { file: string }
        await this.audio.enqueue('transcode', { path: 'a.wav' });
        // @ts-expect-error: not a task of the map
        await this.audio.enqueue('transcribe', { file: 'a.wav' });
      }
    }
    expectTypeOf<Uploads['audio']['queue']>().toEqualTypeOf<Queue<{ transcode: typeof transcode }>>();
  });
});
