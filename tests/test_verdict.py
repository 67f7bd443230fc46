"""The verdict: one line per experiment from the two statements, Holm within stated families,
every test in one table."""

import pandas as pd

from spectrocam.evidence.verdict import STATEMENTS, adjust_tests, collect_tests, verdict_table


def needs(beta, low, high, p, cues=("F1", "F2", "F3")):
    rows = [
        {"half_width_hz": 150.0, "headline": True, "cue": c, "n_tokens": 300, "n_clusters": 200,
         "beta": beta, "low": low, "high": high, "p": p}
        for c in (*cues, "any")
    ]  # fmt: skip
    return pd.DataFrame(rows)


def contrasts(diff, low, high, p, methods=("cam", "layercam")):
    rows = []
    for m in methods:
        for cue in ("F1", "F2", "F3", "any"):
            rows.append(
                {"method": m, "control": "shuffled labels",
                 "same_maps": "gradcam hirescam" if m == "cam" else "", "cue": cue,
                 "n_tokens": 300, "n_clusters": 200, "auc_trained": 0.6, "auc_control": 0.5,
                 "difference": diff, "low": low, "high": high, "p": p}
            )  # fmt: skip
    return pd.DataFrame(rows)


def randomised(diff, low, high, p):
    steps = [c.assign(step=s) for s in ("fc", "conv1") for c in [contrasts(diff, low, high, p)]]
    return pd.concat(steps, ignore_index=True).drop(columns=["control"])


def metrics(accuracy):
    return {"n": 391, "intervals": {"accuracy": [accuracy, accuracy - 0.04, accuracy + 0.04]}}


def experiment(needs_t, shuffled, random, second=None):
    lda = {"classifier": "formants (LDA)", "accuracy": [0.88, 0.85, 0.91], "n": 390}
    return {
        "primary": "seed0",
        "metrics": {"seed0": metrics(0.9), "seed1": metrics(0.86)},
        "references": {"rows": [lda]},
        "needs": needs_t,
        "pairs": None,
        "contrasts": {"seed0": shuffled, "seed1": second if second is not None else shuffled},
        "randomised": random,
    }


def run(experiments):
    tests = adjust_tests(collect_tests(experiments), {k: "seed0" for k in experiments}, "cam")
    return tests, verdict_table(experiments, tests, "cam").set_index("experiment")


def test_yes_needs_every_interval_above_zero_after_holm():
    yes = experiment(needs(0.3, 0.2, 0.4, 1e-6), contrasts(0.1, 0.07, 0.13, 5e-5),
                     randomised(0.2, 0.15, 0.25, 5e-5))  # fmt: skip
    no_maps = experiment(needs(0.3, 0.2, 0.4, 1e-6), contrasts(0.1, 0.07, 0.13, 5e-5),
                         randomised(0.01, -0.02, 0.04, 0.4))  # fmt: skip
    no_needs = experiment(needs(0.05, -0.02, 0.12, 0.2), contrasts(0.1, 0.07, 0.13, 5e-5),
                          randomised(0.2, 0.15, 0.25, 5e-5))  # fmt: skip
    tests, table = run({"yes": yes, "no maps": no_maps, "no needs": no_needs})
    assert table.loc["yes", STATEMENTS[0]] == "yes" and table.loc["yes", STATEMENTS[1]] == "yes"
    assert table.loc["no maps", STATEMENTS[0]] == "yes"
    assert table.loc["no maps", STATEMENTS[1]] == "no"  # the untrained model's maps do as well
    assert (
        table.loc["no needs", STATEMENTS[0]] == "no"
        and table.loc["no needs", STATEMENTS[1]] == "yes"
    )
    # every contrast is reported with its estimate, interval, n and adjusted p
    assert table.loc["yes", "beta, any cue (log p)"].startswith("+0.300 [+0.200, +0.400], n 300")
    assert table.loc["yes", "method"] == "cam (= gradcam, hirescam)"
    assert table.loc["yes", "formants only"].startswith("0.880 [0.850, 0.910]")
    assert table.loc["yes", "seeds above the shuffled-labels model"] == "2 of 2"


def test_the_headline_family_holds_three_tests_per_experiment_and_holm_is_applied():
    e = experiment(needs(0.3, 0.2, 0.4, 0.01), contrasts(0.1, 0.07, 0.13, 0.02),
                   randomised(0.2, 0.15, 0.25, 0.03))  # fmt: skip
    tests, table = run({"a": e, "b": e})
    head = tests[tests.family == "headline"]
    assert len(head) == 6 and (head.family_size == 6).all()
    # Holm over 6 of (0.01, 0.01, 0.02, 0.02, 0.03, 0.03): 0.06, 0.05, 0.08, 0.06, 0.06, 0.03,
    # each raised to the largest before it
    assert sorted(head.p_holm.round(6)) == [0.06, 0.06, 0.08, 0.08, 0.08, 0.08]
    assert (table[STATEMENTS[0]] == "no").all()  # 0.06 > 0.05 after Holm: no
    # the randomisation control of the headline is the last cascade step, all weights random
    assert set(head.control) == {"energy-matched bands", "shuffled labels",
                                 "randomised weights (conv1)"}  # fmt: skip
    detail = tests[tests.family == "detail"]
    assert len(detail) == 2 * (3 + 2 * 4 * 2 - 1 + 2 * 4 * 2 - 1)
    assert not ((detail.method == "gradcam") | (detail.method == "hirescam")).any()


def test_a_seed_that_does_not_reach_is_counted():
    first = contrasts(0.1, 0.07, 0.13, 5e-5)
    second = contrasts(0.02, -0.01, 0.05, 0.3)
    e = experiment(needs(0.3, 0.2, 0.4, 1e-6), first, randomised(0.2, 0.15, 0.25, 5e-5), second)
    _, table = run({"e": e})
    assert table.loc["e", "seeds above the shuffled-labels model"] == "1 of 2"
    assert table.loc["e", STATEMENTS[1]] == "yes"  # the verdict reads the first seed; both shown


def test_an_estimate_below_zero_with_a_small_p_is_no():
    e = experiment(needs(-0.3, -0.4, -0.2, 1e-9), contrasts(-0.1, -0.13, -0.07, 5e-5),
                   randomised(-0.2, -0.25, -0.15, 5e-5))  # fmt: skip
    tests, table = run({"e": e})
    assert (table[list(STATEMENTS)] == "no").all(axis=None)
    assert not tests.survives.any() and (tests.p_holm < 0.05).all()


def test_no_shuffled_model_says_not_run():
    e = experiment(needs(0.3, 0.2, 0.4, 1e-6), None, randomised(0.2, 0.15, 0.25, 5e-5))
    e["contrasts"] = None
    _, table = run({"e": e})
    assert table.loc["e", "AUC minus shuffled labels"] == "not run"
    assert table.loc["e", STATEMENTS[1]] == "no"


def test_the_table_of_tests_by_hand():
    """Every row in its family with its columns; only the headline rows of the causal fit; the
    discriminative form in its own family; an interval that touches 0 does not survive; a method
    without identical maps has no same_maps, and an estimate that is not a number reads '–'."""
    import numpy as np

    from spectrocam.evidence.verdict import COLUMNS, _ci

    fits = pd.concat([needs(0.3, 0.0, 0.4, 1e-9), needs(9.0, 8.0, 10.0, 1e-9).assign(
        headline=False, half_width_hz=75.0)])  # fmt: skip
    pairs = pd.DataFrame({"true_class": ["IY", "AA"], "competitor": ["AA", "IY"], "cue": "F2",
                          "n_tokens": 10, "n_clusters": 5, "beta": 0.1, "low": 0.05, "high": 0.2,
                          "p": [0.01, 0.5]})  # fmt: skip
    shuffled = contrasts(0.1, 0.07, 0.13, 5e-5).assign(same_maps=np.nan)
    e = experiment(fits, shuffled, randomised(0.2, 0.15, 0.25, 5e-5))
    e["pairs"] = pairs
    tests = adjust_tests(collect_tests({"e": e}), {"e": "seed0"}, "cam")
    assert list(tests.columns) == [*COLUMNS, "family", "p_holm", "family_size", "survives"]
    first = tests[tests.statement == STATEMENTS[0]]
    assert len(first) == 4 and (first.estimate == 0.3).all()  # the 75 Hz fit is not read
    assert (first.method == "").all() and (first.same_maps == "").all()
    paired = tests[tests.statement == "pairs"]
    assert (paired.family == "pairs").all() and paired.control.tolist() == ["IY vs AA", "AA vs IY"]
    assert paired.p_holm.tolist() == [0.02, 0.5] and (paired.same_maps == "").all()
    assert not first.survives.any()  # low is 0: the interval does not lie above 0
    assert set(tests[tests.control == "shuffled labels"].same_maps) == {""}  # NaN read back
    assert _ci(float("nan"), 0.1, 0.2) == "–" and _ci(None, 0, 0) == "–"
    assert _ci(0.5, 0.25, 0.75, 2) == "+0.50 [+0.25, +0.75]"


def test_the_verdict_line_by_hand():
    """The accuracies as printed: the first seed's with its interval, the mean over seeds with
    their range, the reference classifiers (or '–' where there is none)."""
    e = experiment(needs(0.3, 0.2, 0.4, 1e-6), contrasts(0.1, 0.07, 0.13, 5e-5),
                   randomised(0.2, 0.15, 0.25, 5e-5))  # fmt: skip
    majority = {"classifier": "majority (IY)", "accuracy": [0.3, 0.25, 0.35], "n": 391}
    e["references"]["rows"].append(majority)
    bare = dict(e, references={"rows": [majority]})
    none = {k: v for k, v in e.items() if k != "references"}
    _, table = run({"e": e, "bare": bare, "none": none})
    assert list(table.columns) == [
        "test tokens", "accuracy (seed0)", "accuracy over seeds", "formants only",
        "majority class", STATEMENTS[0], "beta, any cue (log p)", STATEMENTS[1], "method",
        "AUC minus shuffled labels", "AUC minus randomised weights",
        "seeds above the shuffled-labels model",
    ]  # fmt: skip
    row = table.loc["e"]
    assert row["test tokens"] == 391 and row["accuracy (seed0)"] == "0.900 [0.860, 0.940]"
    assert row["accuracy over seeds"] == "0.880 (0.860 to 0.900, 2 seeds)"
    assert row["majority class"] == "0.300 [0.250, 0.350] (majority (IY), n 391)"
    assert row["AUC minus randomised weights"].startswith("+0.200 [+0.150, +0.250], n 300")
    assert table.loc["bare", "formants only"] == "–" and table.loc["none", "majority class"] == "–"


def test_a_method_without_identical_maps_is_named_alone():
    """The verdict's method column names the methods whose maps are the headline's only when
    there are some (CAM = Grad-CAM = HiResCAM at a pooled last stage); LayerCAM has none."""

    def alone(frame):
        return frame.assign(same_maps="")

    layer = experiment(
        needs(0.3, 0.2, 0.4, 1e-6),
        alone(contrasts(0.1, 0.07, 0.13, 5e-5)),
        alone(randomised(0.2, 0.15, 0.25, 5e-5)),
    )
    _, table = run({"layer": layer})
    assert table.loc["layer", "method"] == "cam"
