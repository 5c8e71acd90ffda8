"""The Python training activities: train_sft, train_reward, train_grpo (TrainJob -> TrainJobResult).

Each builds its TRL trainer on a LoRA adapter over the catalog model; run.run_stage does the rest.
`no_thread_cancel_exception`: the SDK would otherwise raise CancelledError asynchronously inside the
thread, anywhere in a step or a checkpoint upload; the trainer callback stops at a step boundary instead.
"""
from __future__ import annotations

import os
from pathlib import Path

from temporalio import activity

from ..generated.models import TrainingHyperparameters
from ..models import device, load_model_and_tokenizer, load_reward_model
from .data import grpo_example, preference_example, sft_example
from .rewards import rule_rewards
from .run import Stage, run_stage


def _lora_config(hp: TrainingHyperparameters, task_type: str):
    from peft import LoraConfig

    return LoraConfig(r=hp.lora_r, lora_alpha=hp.lora_alpha, lora_dropout=hp.lora_dropout, target_modules=hp.lora_target_modules, task_type=task_type)


def _four_bit_config(recipe: str):
    """QLoRA: base weights in 4-bit NF4, compute in the dtype the model loads in (bf16 on CUDA)."""
    if recipe != "qlora":
        return None
    import torch
    from transformers import BitsAndBytesConfig

    compute = torch.bfloat16 if device() == "cuda" else torch.float32
    # FSDP shards parameters of one dtype: the packed 4-bit weights are stored as the compute dtype (as in
    # bitsandbytes' FSDP-QLoRA recipe) so they shard with the rest (ACCELERATE_USE_FSDP: set by accelerate launch).
    storage = {"bnb_4bit_quant_storage": compute} if os.environ.get("ACCELERATE_USE_FSDP") == "true" else {}
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=compute, **storage)


def _policy(job: dict, adapter_dir: Path | None):
    model, tokenizer = load_model_and_tokenizer(job["model_id"], adapter_dir=adapter_dir, for_training=True, quantization_config=_four_bit_config(job["recipe"]))
    if job["recipe"] == "qlora" and adapter_dir is None:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    return model, tokenizer


def _examples_dataset(examples: list[dict]):
    from datasets import Dataset

    return Dataset.from_list(examples)


def _build_sft(job, hp, examples, common, store, work_dir, eval_examples=None):
    from trl import SFTConfig, SFTTrainer

    model, tokenizer = _policy(job, None)
    # Packing needs TRL's max_length; otherwise whole rows are kept or left out below, never cut.
    args = SFTConfig(**common, max_length=hp.max_length if hp.packing else None, packing=hp.packing, dataset_num_proc=None)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=_examples_dataset(examples),
        eval_dataset=_examples_dataset(eval_examples) if eval_examples else None,
        processing_class=tokenizer,
        peft_config=_lora_config(hp, "CAUSAL_LM"),
    )
    if not hp.packing:
        trainer.train_dataset = _whole_rows_only(trainer.train_dataset, hp.max_length, "train")
        if trainer.eval_dataset is not None:
            trainer.eval_dataset = _whole_rows_only(trainer.eval_dataset, hp.max_length, "validation")
    return trainer, tokenizer


def _whole_rows_only(dataset, max_length: int, split: str):
    """The tokenized rows of at most max_length tokens. TRL would cut longer ones at the end, and an
    answer cut before its end-of-turn token teaches the model to write on where answers stop
    (tuned models then repeated themselves up to the token limit)."""
    kept = dataset.filter(lambda row: len(row["input_ids"]) <= max_length)
    if len(kept) < len(dataset):
        activity.logger.info(f"SFT {split}: {len(dataset) - len(kept)} of {len(dataset)} rows are longer than max_length={max_length} tokens and are left out whole")
    return kept


def _build_reward(job, hp, examples, common, store, work_dir):
    from trl import RewardConfig, RewardTrainer

    model, tokenizer = load_reward_model(job["model_id"], for_training=True)
    args = RewardConfig(**common, max_length=hp.max_length, dataset_num_proc=None)
    trainer = RewardTrainer(model=model, args=args, train_dataset=_examples_dataset(examples), processing_class=tokenizer, peft_config=_lora_config(hp, "SEQ_CLS"))
    return trainer, tokenizer


def _build_grpo(job, hp, examples, common, store, work_dir):
    from trl import GRPOConfig, GRPOTrainer

    init_dir = store.get_tree(job["init_adapter"], work_dir / "init-adapter") if "init_adapter" in job else None
    model, tokenizer = _policy(job, init_dir)
    reward_funcs, reward_tokenizers = [rule_rewards], [None]
    if "reward_model" in job:
        reward_model, reward_tokenizer = load_reward_model(job["model_id"], store.get_tree(job["reward_model"], work_dir / "reward-model"))
        reward_funcs.append(reward_model)
        reward_tokenizers.append(reward_tokenizer)
    # batch_size counts prompts; TRL's per-device batch counts completions, num_generations per prompt.
    group = hp.num_generations
    common = {**common, "per_device_train_batch_size": hp.batch_size * group}
    extra = {"beta": hp.beta} if hp.beta is not None else {}
    args = GRPOConfig(**common, num_generations=group, max_completion_length=hp.max_completion_length, log_completions=False, **extra)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=reward_funcs,
        args=args,
        train_dataset=_examples_dataset(examples),
        processing_class=tokenizer,
        reward_processing_classes=reward_tokenizers,
        peft_config=None if init_dir else _lora_config(hp, "CAUSAL_LM"),
    )
    return trainer, tokenizer


SFT = Stage("sft", "SftRow", sft_example, _build_sft, validates=True)
REWARD = Stage("reward", "PreferenceRow", preference_example, _build_reward)
GRPO = Stage("grpo", "GrpoRow", grpo_example, _build_grpo)
STAGES = {stage.name: stage for stage in (SFT, REWARD, GRPO)}


@activity.defn(no_thread_cancel_exception=True)
def train_sft(job: dict) -> dict:
    """Supervised fine-tuning of a LoRA/QLoRA adapter with TRL's SFTTrainer."""
    return run_stage(SFT, job)


@activity.defn(no_thread_cancel_exception=True)
def train_reward(job: dict) -> dict:
    """A reward model (LoRA over the base with a scalar head) from preference pairs, TRL's RewardTrainer."""
    return run_stage(REWARD, job)


@activity.defn(no_thread_cancel_exception=True)
def train_grpo(job: dict) -> dict:
    """GRPO on prompt-only rows: rule-based task rewards plus the trained reward model's score."""
    return run_stage(GRPO, job)
