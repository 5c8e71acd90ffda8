import { minCostBestPerfModel, rankCandidates } from '../../../core/routing/select';
import { TypedError } from '../../../core/errors';
import { perfIndex } from './fixtures';

const index = perfIndex({
  0: {
    big: { quality: 0.9, cost: 0.01, p95: 900 },
    mid: { quality: 0.88, cost: 0.004, p95: 400 },
    small: { quality: 0.7, cost: 0.001, p95: 100 },
  },
  1: {
    big: { quality: 0.6, cost: 0.01 },
    small: { quality: 0.6, cost: 0.001 },
    broken: { quality: 0, cost: 0, missing: 'model failed to load' },
  },
  2: { big: { quality: 0, cost: 0, missing: 'no test samples' } },
});

describe('minCostBestPerfModel', () => {
  it('with zero tolerance picks the best model of the cluster', () => {
    expect(minCostBestPerfModel(0, index, { tolerance: 0 })).toMatchObject({ model_id: 'big', reason: 'cheapest_within_tolerance' });
  });

  it('picks the cheapest model within the tolerance of the best, in quality points', () => {
    expect(minCostBestPerfModel(0, index, { tolerance: 0.02 }).model_id).toBe('mid');
    expect(minCostBestPerfModel(0, index, { tolerance: 0.019 }).model_id).toBe('big');
    expect(minCostBestPerfModel(0, index, { tolerance: 0.2 }).model_id).toBe('small');
  });

  it('ranks the remaining models as fallbacks: eligible by cost, then best under the cost cap, then cheapest', () => {
    expect(minCostBestPerfModel(0, index, { tolerance: 0.02 }).ranked).toEqual(['mid', 'big', 'small']);
    expect(minCostBestPerfModel(0, index, { tolerance: 0.02, cost_limit: 0.005 }).ranked).toEqual(['mid', 'small', 'big']);
  });

  it('applies the p95 latency limit in milliseconds and the cost limit per request', () => {
    // No model is both good enough and fast enough: the documented fallback is the best under the cost cap.
    expect(minCostBestPerfModel(0, index, { tolerance: 0.02, latency_ms: 300 })).toMatchObject({ model_id: 'big', reason: 'fallback_best_under_cost_cap' });
    expect(minCostBestPerfModel(0, index, { tolerance: 0.5, latency_ms: 300 })).toMatchObject({ model_id: 'small', reason: 'cheapest_within_tolerance' });
    expect(minCostBestPerfModel(0, index, { tolerance: 0, cost_limit: 0.005 })).toMatchObject({ model_id: 'mid', reason: 'fallback_best_under_cost_cap' });
  });

  it('falls back to the cheapest model when nothing fits the cost cap', () => {
    expect(minCostBestPerfModel(0, index, { cost_limit: 0.0001 })).toMatchObject({ model_id: 'small', reason: 'fallback_cheapest', ranked: ['small', 'mid', 'big'] });
  });

  it('breaks a quality tie by cost, and never routes to a missing cell', () => {
    const selection = minCostBestPerfModel(1, index, { tolerance: 0 });
    expect(selection).toMatchObject({ model_id: 'small', ranked: ['small', 'big'] });
  });

  it('breaks a full tie (quality, cost, latency) by model id so the choice is stable', () => {
    const tied = { quality: 0.5, cost_per_request: 0.002, latency_ms_p95: 50 };
    expect(
      rankCandidates([
        { model_id: 'b', ...tied },
        { model_id: 'a', ...tied },
      ])!.ranked,
    ).toEqual(['a', 'b']);
  });

  it('refuses a cluster with no measured cell and an unknown cluster with typed errors', () => {
    expect(() => minCostBestPerfModel(2, index)).toThrow(TypedError);
    expect(() => minCostBestPerfModel(2, index)).toThrow(/no model has a measured cell/);
    try {
      minCostBestPerfModel(7, index);
      throw new Error('expected a failure');
    } catch (err) {
      expect(err).toBeInstanceOf(TypedError);
      expect((err as TypedError).type).toBe('InvalidRequest');
    }
  });
});
