"""The Python worker for one GPU class: `python -m trainers.worker --queue llmloop-gpu-<class>`.

Training, evaluation and OCR are CPU/GPU-bound synchronous code, so activities run in a thread pool;
they heartbeat from their loops, which is also how cancellation reaches them.
Run any number of these per queue; Temporal spreads the work.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import logging
import os
import signal
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from . import config
from .codec import data_converter_from_env
from .metrics import MetricsInterceptor, metrics_port_from_env, start_worker_metrics
from .registry import ACTIVITIES
from .temporal_connection import connect_options


async def run(queue: str, max_concurrent: int) -> None:
    # TLS, mTLS and the API key come from the TEMPORAL_* variables every client and worker reads (temporal_connection.py).
    client = await Client.connect(**connect_options(), namespace=config.temporal_namespace(), data_converter=data_converter_from_env())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max_concurrent) as executor:
        worker = Worker(
            client,
            task_queue=queue,
            activities=ACTIVITIES,
            activity_executor=executor,
            max_concurrent_activities=max_concurrent,
            interceptors=[MetricsInterceptor()],
            # Heartbeats carry checkpoint refs and bring cancellation: deliver them within 2 s, not 0.8 x the timeout.
            max_heartbeat_throttle_interval=timedelta(seconds=2),
        )
        async with worker:
            print(f"[python-worker] serving {queue}", flush=True)
            await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queue", default=None, help="task queue (default llmloop-gpu-$LLMLOOP_GPU_CLASS)")
    parser.add_argument("--max-concurrent", type=int, default=2, help="activities run at once on this host")
    args = parser.parse_args()
    # Activities run side by side in threads of one process, and torch sizes its thread pool from
    # OMP_NUM_THREADS when first imported: split the cores between them instead of each taking all.
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // args.max_concurrent)))
    logging.basicConfig(level=logging.INFO)
    metrics_port = metrics_port_from_env()
    if metrics_port is not None:
        # Before the client connects: the SDK's metrics come from the default Runtime this installs.
        print(f"[python-worker] metrics on :{start_worker_metrics(metrics_port)}/metrics", flush=True)
    asyncio.run(run(args.queue or config.gpu_task_queue(config.gpu_class()), args.max_concurrent))


if __name__ == "__main__":
    main()
