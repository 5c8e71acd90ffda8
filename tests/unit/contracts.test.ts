import fs from 'node:fs';
import path from 'node:path';
import { catalogPath } from '../../core/catalog';
import { REPO_ROOT, TASK_QUEUE_CPU, gpuTaskQueue } from '../../core/config';
import { NON_RETRYABLE_ERROR_TYPES, TypedError } from '../../core/errors';
import { SEARCH_ATTRIBUTE_SERVER_TYPES, SEARCH_ATTRIBUTE_TYPES } from '../../schemas/generated/constants';

const constants = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'schemas', 'constants.json'), 'utf8'));

describe('contracts generated from schemas/constants.json', () => {
  it('makes exactly the listed error types non-retryable', () => {
    expect([...NON_RETRYABLE_ERROR_TYPES]).toEqual(Object.keys(constants.non_retryable_error_types));
    expect(new TypedError('UnknownModel', 'x').nonRetryable).toBe(true);
    expect(new TypedError('LlmTimeout', 'x').nonRetryable).toBe(false);
  });

  it('names the task queues the workers serve', () => {
    expect(TASK_QUEUE_CPU).toBe('llmloop-cpu');
    expect(gpuTaskQueue('h100')).toBe('llmloop-gpu-h100');
  });

  it('gives every search attribute an SDK type and a server type', () => {
    expect(SEARCH_ATTRIBUTE_TYPES).toEqual({ LlmloopStage: 'KEYWORD', DatasetVersion: 'KEYWORD', RoutingTableVersion: 'KEYWORD' });
    expect(Object.keys(SEARCH_ATTRIBUTE_SERVER_TYPES)).toEqual(Object.keys(SEARCH_ATTRIBUTE_TYPES));
  });

  it('finds the model catalog where the Python worker does', () => {
    expect(catalogPath({})).toBe(path.join(REPO_ROOT, 'config', 'models.json'));
    expect(catalogPath({ LLMLOOP_MODEL_CATALOG: '/tmp/models.json' })).toBe('/tmp/models.json');
  });
});
