/**
 * Types of the activities the Python worker (trainers/worker.py) registers on the
 * llmloop-gpu-<class> queues. Names are the Python function names; payloads are the schema types.
 */
import type { PythonProbeRequest, WorkerProbe } from '../schemas/generated/types';

export interface PythonActivities {
  probe_python_worker(request: PythonProbeRequest): Promise<WorkerProbe>;
}
