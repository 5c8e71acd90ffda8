"""Fine-tuning activities (SFT, reward model, GRPO) and the plain pieces they are built from."""
