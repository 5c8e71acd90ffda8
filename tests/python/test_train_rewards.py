"""Rule-based GRPO rewards: plain functions over text."""
from trainers.training.rewards import format_ok, label_f1, overlap_f1, rule_rewards, task_reward


def test_overlap_is_unigram_f1_and_handles_chinese_by_character():
    assert overlap_f1("the cat sat", "the cat sat") == 1.0
    assert overlap_f1("dog", "the cat sat") == 0.0
    assert 0.0 < overlap_f1("季度收入增长", "季度收入下降") < 1.0


def test_label_f1_counts_only_allowed_labels_named_as_words():
    allowed = ["invoice", "contract", "memo"]
    assert label_f1("This is an invoice.", allowed, ["invoice"]) == 1.0
    assert label_f1("invoice or contract", allowed, ["invoice"]) == 2 / 3
    assert label_f1("invoices everywhere", allowed, ["invoice"]) == 0.0
    assert label_f1("a memo", allowed, ["invoice"]) == 0.0


def test_format_check_refuses_empty_answers_template_leaks_and_unlabelled_classifications():
    assert format_ok("Paris.", "summary", []) == 1.0
    assert format_ok("   ", "summary", []) == 0.0
    assert format_ok("Paris<|im_end|>", "summary", []) == 0.0
    assert format_ok("no idea", "classification", ["invoice", "memo"]) == 0.0


def test_task_reward_picks_the_metric_by_task_type():
    assert task_reward("invoice", "classification", "", ["invoice", "memo"], ["invoice"]) == 1.0
    assert task_reward("the report says revenue grew", "summary", "revenue grew", [], []) > task_reward("weather is nice", "summary", "revenue grew", [], [])
    assert task_reward("", "rewrite", "anything", [], []) == 0.0


def test_trl_reward_function_scores_each_conversational_completion():
    completions = [[{"role": "assistant", "content": "invoice"}], [{"role": "assistant", "content": "memo"}]]
    scores = rule_rewards(
        prompts=[[{"role": "user", "content": "classify"}]] * 2,
        completions=completions,
        task_type=["classification"] * 2,
        reference=["", ""],
        labels=[["invoice", "memo"]] * 2,
        answer_labels=[["invoice"]] * 2,
        trainer_state=None,
    )
    assert scores == [1.0, 0.0]


def test_grpo_rows_from_the_dataset_stage_become_reward_columns():
    from trainers.training.data import grpo_example

    row = {"id": "x", "prompt": [{"role": "user", "content": "Classify."}], "task_type": "classification", "reference_answer": "memo", "labels": ["invoice", "memo"], "split": "train"}
    example = grpo_example(row)
    assert example == {"prompt": row["prompt"], "task_type": "classification", "reference": "memo", "labels": ["invoice", "memo"], "answer_labels": ["memo"]}
