/**
 * Prometheus metrics of a Node worker, on one port (`LLMLOOP_METRICS_PORT`; unset: off): llmloop's
 * own counters (prom-client) and the Temporal SDK's (task latencies, slots, sticky cache) in one
 * /metrics. The SDK serves its metrics on a loopback port of its own; /metrics appends them, so
 * Prometheus scrapes one target per worker process.
 */
import { Runtime } from '@temporalio/worker';
import http from 'node:http';
import { Counter, Registry } from 'prom-client';
import { freePort } from '../core/devserver';

export const registry = new Registry();

export const documentsParsed = new Counter({
  name: 'llmloop_documents_parsed_total',
  help: 'Documents parsed into a DocumentModel, by format; reused = same content already parsed by this parser version.',
  labelNames: ['format', 'reused'] as const,
  registers: [registry],
});
export const pagesParsed = new Counter({
  name: 'llmloop_pages_parsed_total',
  help: 'Pages (PDF), slides (PPTX), sheets (XLSX) or sections (DOCX) of freshly parsed documents, by format.',
  labelNames: ['format'] as const,
  registers: [registry],
});
export const samplesProduced = new Counter({
  name: 'llmloop_samples_produced_total',
  help: 'Samples accepted into finalized datasets.',
  registers: [registry],
});
export const samplesRejected = new Counter({
  name: 'llmloop_samples_rejected_total',
  help: 'Generated samples a dataset gate refused, by reason (the manifest\'s rejected_by_reason).',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** The port from LLMLOOP_METRICS_PORT, or undefined when metrics are off. */
export function metricsPortFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env.LLMLOOP_METRICS_PORT;
  if (!value) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`LLMLOOP_METRICS_PORT must be a port number, got ${value}`);
  return port;
}

/**
 * Installs the SDK Runtime with its Prometheus exporter (before any connection or worker exists: the
 * Runtime is process-wide) and serves /metrics on `port` (0: any free port; host LLMLOOP_METRICS_HOST, default all interfaces).
 */
export async function startWorkerMetrics(port: number, host = process.env.LLMLOOP_METRICS_HOST || '0.0.0.0'): Promise<MetricsServer> {
  const sdkAddress = `127.0.0.1:${await freePort()}`;
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: sdkAddress } } } });
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    Promise.all([registry.metrics(), sdkMetrics(sdkAddress)])
      .then(([own, sdk]) => res.writeHead(200, { 'content-type': registry.contentType }).end(`${own}\n${sdk}`))
      .catch((err: Error) => res.writeHead(500).end(err.message));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The SDK exporter's text; empty until the first worker or connection has recorded something. */
async function sdkMetrics(address: string): Promise<string> {
  const response = await fetch(`http://${address}/metrics`).catch(() => undefined);
  return response?.ok ? response.text() : '';
}
