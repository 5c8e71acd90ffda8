"""trainers/efficacy.py: per-candidate estimates and paired gains with the evaluation stage's bootstrap."""
import numpy as np

from trainers.efficacy import efficacy_stats


def test_paired_gain_is_the_mean_per_sample_difference_and_keeps_what_both_share():
    rng = np.random.default_rng(0)
    shared = rng.uniform(0, 1, 60)  # how hard each sample is: both models feel it
    base = np.clip(shared, 0, 1)
    tuned = np.clip(shared + 0.1, 0, 1)
    stats = efficacy_stats({
        "task_ids": [f"t{i}" for i in range(60)], "task_types": ["summary"] * 30 + ["rewrite"] * 30,
        "resamples": 500, "seed": 1,
        "quality": {"base": base.tolist(), "tuned": tuned.tolist()},
        "pairs": [{"base_model": "m", "base": "base", "tuned": "tuned"}],
    })
    (gain,) = stats["gains"]
    assert gain["delta"]["n"] == 60
    assert abs(gain["delta"]["mean"] - float((tuned - base).mean())) < 1e-12
    # Paired, the interval is far narrower than the two unpaired intervals suggest, and above 0.
    assert gain["delta"]["ci_low"] > 0
    unpaired = stats["candidates"]["tuned"]["quality"]["ci_high"] - stats["candidates"]["tuned"]["quality"]["ci_low"]
    assert gain["delta"]["ci_high"] - gain["delta"]["ci_low"] < unpaired / 2
    assert stats["candidates"]["base"]["by_task_type"]["rewrite"] == {"mean": float(base[30:].mean()), "n": 30}
