/** Prometheus metrics of one gateway (served at GET /metrics). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'llmloop_gateway_requests_total',
    help: 'Chat completion requests by chosen model, cluster and HTTP status.',
    labelNames: ['model', 'cluster', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'llmloop_gateway_request_duration_seconds',
    help: 'Time from request to the end of the response, by chosen model.',
    labelNames: ['model'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'llmloop_gateway_upstream_errors_total',
    help: 'Failed upstream attempts (timeout, connection, status) and embedding failures.',
    labelNames: ['model', 'kind'] as const,
    registers: [this.registry],
  });
  readonly cooldowns = new Counter({
    name: 'llmloop_gateway_cooldowns_total',
    help: 'Times an upstream was put in cooldown.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly estimatedCost = new Counter({
    name: 'llmloop_gateway_estimated_cost_total',
    help: 'Estimated cost of answered requests (usage x cost per 1k tokens, else the table cost per request).',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly keyRequests = new Counter({
    name: 'llmloop_gateway_key_requests_total',
    help: 'Chat completion requests by API key name and HTTP status.',
    labelNames: ['key', 'status'] as const,
    registers: [this.registry],
  });
  readonly keySpend = new Counter({
    name: 'llmloop_gateway_key_spend_total',
    help: 'Estimated cost of answered requests by API key name (what max_budget is checked against).',
    labelNames: ['key'] as const,
    registers: [this.registry],
  });
  readonly keyRejections = new Counter({
    name: 'llmloop_gateway_key_rejections_total',
    help: 'Requests refused with 429 by API key name and limit (rate_limit, budget).',
    labelNames: ['key', 'reason'] as const,
    registers: [this.registry],
  });
  readonly requestLogErrors = new Counter({
    name: 'llmloop_gateway_request_log_errors_total',
    help: 'Failed writes of the request log (the request is still answered; its line is lost).',
    registers: [this.registry],
  });
  readonly tableVersion = new Gauge({
    name: 'llmloop_gateway_routing_table_info',
    help: 'The routing table version in service (value 1).',
    labelNames: ['version'] as const,
    registers: [this.registry],
  });
}
