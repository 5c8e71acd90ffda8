import { Worker } from 'node:worker_threads';
import { TypedError } from '../errors';

/**
 * Pools of worker threads that run the parsers (pdf.js; the OOXML readers) away from the caller's
 * event loop. Each thread has a heap ceiling, each job a wall clock and an optional AbortSignal;
 * past either, or when the heap runs out, the thread is terminated and the job fails alone (as
 * `LimitExceeded` with `limit: time | memory`, or with the signal's reason), while the process
 * that asked carries on. A thread that failed is never reused; a good one serves a number of jobs
 * before it is replaced, so caches inside it cannot pile up.
 */

export interface ThreadPoolSpec {
  /** What the threads read, for messages ('PDF', 'DOCX/PPTX/XLSX'). */
  label: string;
  /** Source of the thread's script (run with `eval`); it reads `workerData` and answers on `parentPort`. */
  source: string;
  workerData: unknown;
  /** Jobs a thread serves before it is replaced. */
  jobsPerThread: number;
  /** Idle threads kept warm per heap size: starting one costs 100-200 ms (loading its libraries). */
  maxIdle: number;
  /**
   * Whether a thread that rejected its job itself (a typed failure it reported, its last message for
   * that job) may serve the next one. Timeouts, heap exhaustion, aborts and crashes always end it.
   */
  reuseAfterReject: boolean;
}

export interface JobLimits {
  /** Heap ceiling of the thread running the job (V8 old generation), MB. */
  heapMb: number;
  /** Wall clock from the job's start after which the thread is terminated. */
  timeoutMs: number;
  /** Terminates the thread when aborted; the job rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What a job's message handler may do with the job. */
export interface JobControl<T> {
  resolve(value: T): void;
  /** Fails the job with what the thread reported (see ThreadPoolSpec.reuseAfterReject). */
  reject(err: Error): void;
  /** Replaces the deadline: `timeoutMs` from now (e.g. once a PDF's page count is known). */
  setDeadline(timeoutMs: number): void;
}

interface PooledThread {
  worker: Worker;
  jobs: number;
}

export class BoundedThreadPool {
  private readonly idle = new Map<number, PooledThread[]>();

  constructor(private readonly spec: ThreadPoolSpec) {}

  /**
   * Posts `job` to a thread with `limits.heapMb` of heap and hands every message the thread posts
   * back to `onMessage` until it resolves or rejects the job. `transfer` moves buffers instead of
   * copying them (the document's bytes: a copy per parse of a 200 MB file is worth avoiding).
   */
  run<T, M>(job: unknown, limits: JobLimits, onMessage: (message: M, control: JobControl<T>) => void, transfer: ArrayBuffer[] = []): Promise<T> {
    const { signal } = limits;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const pool = this.idle.get(limits.heapMb) ?? [];
    this.idle.set(limits.heapMb, pool);
    const thread = pool.pop() ?? this.start(limits.heapMb);
    const { worker } = thread;
    thread.jobs++;
    worker.ref();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (failure: Error | undefined, value?: T, reported = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        worker.off('message', onWorkerMessage).off('error', onError).off('exit', onExit);
        // A thread that failed otherwise may be stuck or half-dead: it is never reused.
        const healthy = !failure || (reported && this.spec.reuseAfterReject);
        if (!healthy || thread.jobs >= this.spec.jobsPerThread || pool.length >= this.spec.maxIdle) void worker.terminate();
        else (worker.unref(), pool.push(thread));
        if (failure) reject(failure);
        else resolve(value as T);
      };
      const control: JobControl<T> = {
        resolve: (value) => finish(undefined, value),
        reject: (err) => finish(err, undefined, true),
        setDeadline: (timeoutMs) => {
          clearTimeout(timer);
          timer = setTimeout(() => finish(new TypedError('LimitExceeded', `${this.spec.label} parse did not finish within ${Math.round(timeoutMs / 100) / 10} s`, { limit: 'time', value: timeoutMs / 1000 })), timeoutMs);
        },
      };
      const onWorkerMessage = (message: M) => onMessage(message, control);
      const onError = (err: Error & { code?: string }) => {
        finish(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new TypedError('LimitExceeded', `${this.spec.label} needs more than ${limits.heapMb} MB of heap to parse`, { limit: 'memory', value: limits.heapMb }) : err);
      };
      const onExit = () => finish(new Error(`the ${this.spec.label} parser thread exited unexpectedly`));
      const onAbort = () => finish(abortReason(signal!));
      control.setDeadline(limits.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', onWorkerMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(job, transfer);
    });
  }

  private start(heapMb: number): PooledThread {
    const worker = new Worker(this.spec.source, { eval: true, resourceLimits: { maxOldGenerationSizeMb: heapMb }, workerData: this.spec.workerData });
    const thread = { worker, jobs: 0 };
    // An idle thread that dies leaves the pool (a job's own listeners report it while one runs);
    // without a listener of its own, its 'error' event would throw in the process that asked.
    worker.on('error', () => undefined).on('exit', () => {
      const pool = this.idle.get(heapMb) ?? [];
      if (pool.includes(thread)) pool.splice(pool.indexOf(thread), 1);
    });
    // An idle thread must not keep a CLI or test process alive.
    worker.unref();
    return thread;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(`parse cancelled: ${String(signal.reason)}`);
}

/** A TypedError as it crosses from a parser thread (structured clone keeps only plain fields). */
export interface SerializedTypedError {
  type: string;
  message: string;
  details: Record<string, unknown>;
  nonRetryable: boolean;
}

export function serializeTypedError(err: TypedError): SerializedTypedError {
  return { type: err.type, message: err.message, details: err.details, nonRetryable: err.nonRetryable };
}

export function deserializeTypedError(err: SerializedTypedError): TypedError {
  return new TypedError(err.type, err.message, err.details, err.nonRetryable);
}
