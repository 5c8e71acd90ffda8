"""llmloop's Python side: the worker for GPU-class task queues, trainers, evaluation, embedding."""
