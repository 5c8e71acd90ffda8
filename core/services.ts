/**
 * Child processes that llmloop starts for the demo, chaos checks and tests (workers, model servers,
 * the gateway): started, awaited until ready, and stopped as a group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Ready when the output matches this, or when this URL answers 2xx. */
  readyWhen: RegExp | { url: string };
  readyTimeoutMs?: number;
  /** Appends the service's output here (and keeps the last 64 KiB in memory). */
  logFile?: string;
}

export interface Service {
  name: string;
  process: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now: what a crash looks like. */
  kill(): Promise<void>;
}

const OUTPUT_TAIL = 64 * 1024;

export async function startService(spec: ServiceSpec): Promise<Service> {
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, PYTHONUNBUFFERED: '1', ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let log: fs.WriteStream | undefined;
  if (spec.logFile) {
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    log = fs.createWriteStream(spec.logFile, { flags: 'a' });
  }
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL);
    log?.write(chunk);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const end = async (signal: NodeJS.Signals, graceMs = 10_000) => {
    if (alive()) {
      child.kill(signal);
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    log?.end();
  };
  const service: Service = { name: spec.name, process: child, output: () => output, stop: (graceMs) => end('SIGTERM', graceMs), kill: () => end('SIGKILL') };

  const deadline = Date.now() + (spec.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (!alive()) throw new Error(`${spec.name} exited (code ${child.exitCode}) before it was ready:\n${output.slice(-4000)}`);
    if (await isReady(spec.readyWhen, output)) return service;
    if (Date.now() > deadline) {
      await service.kill();
      throw new Error(`${spec.name} not ready in ${spec.readyTimeoutMs ?? 120_000} ms:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function isReady(readyWhen: ServiceSpec['readyWhen'], output: string): Promise<boolean> {
  if (readyWhen instanceof RegExp) return readyWhen.test(output);
  try {
    const response = await fetch(readyWhen.url, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Stops services in reverse start order; never throws, so one stuck service cannot leak the rest. */
export async function stopAll(services: Service[]): Promise<void> {
  for (const service of [...services].reverse()) {
    await service.stop().catch((err: unknown) => console.error(`[${service.name}] stop failed: ${String(err)}`));
  }
}
