"""The verdict table: every seed must show the agreement, the family of tests spans seeds."""

import pandas as pd

from spectrocam.evidence.verdict import adjust_tests, verdict_table


def evidence(minus, low):
    return pd.DataFrame(
        {
            "method": ["cam"],
            "band": ["any"],
            "n_segments": [40],
            "share": [0.5],
            "share_spectrum": [0.5 - minus],
            "minus_spectrum": [minus],
            "minus_spectrum_low": [low],
            "minus_spectrum_high": [minus + 0.05],
        }
    )


def null(p):
    return pd.DataFrame(
        {
            "method": ["cam"],
            "band": ["any"],
            "n": [40],
            "observed": [0.1],
            "null_mean": [0],
            "p": [p],
        }
    )


def metrics(accuracy):
    return {"n": 50, "intervals": {"accuracy": [accuracy, accuracy - 0.1, accuracy + 0.1]}}


def table(second_low, second_p):
    tests = adjust_tests({("toy", "seed0"): null(0.001), ("toy", "seed1"): null(second_p)})
    models = {
        "seed0": {"metrics": metrics(0.8), "evidence": evidence(0.1, 0.05)},
        "seed1": {"metrics": metrics(0.7), "evidence": evidence(0.08, second_low)},
    }
    sanity = pd.DataFrame(
        {
            "step": ["fc"],
            "method": ["cam"],
            "band": ["any"],
            "n_segments": [40],
            "verdict": ["passed"],
        }
    )
    experiments = {
        "toy": {
            "models": models,
            "sanity": sanity,
            "shuffled": sanity.assign(step="shuffled labels", verdict="failed"),
        }
    }
    return tests, verdict_table(experiments, tests).iloc[0]


def test_every_seed_must_show_the_agreement_beyond_the_energy():
    tests, row = table(second_low=0.01, second_p=0.002)
    assert tests.family.iloc[0] == 2 and list(tests.model) == ["seed0", "seed1"]
    assert row["beyond the energy"] == "yes (2 of 2 seeds)"
    assert row["accuracy (seed0)"] == "0.800 [0.700, 0.900]"
    assert row["accuracy over seeds"] == "0.750 (0.700 to 0.800, 2 seeds)"
    assert row["map - spectrum over seeds"] == "0.090 (0.080 to 0.100, 2 seeds)"
    assert row["sanity: randomised weights"] == "fc: passed (n 40)"
    assert row["sanity: shuffled labels"] == "shuffled labels: failed (n 40)"
    # one seed whose interval reaches 0, or whose test does not survive Holm: not beyond
    assert table(second_low=-0.01, second_p=0.002)[1]["beyond the energy"] == "no (1 of 2 seeds)"
    assert table(second_low=0.01, second_p=0.2)[1]["beyond the energy"] == "no (1 of 2 seeds)"


def test_two_stated_families_and_the_least_reachable_p():
    from spectrocam.evidence.verdict import smallest_adjusted_p

    bands = pd.concat([null(0.001).assign(band=b) for b in ("F1", "F2", "F3", "any")])
    tests = adjust_tests({("toy", f"seed{k}"): bands for k in range(3)})
    headline = tests[tests.band == "any"]
    assert set(headline.family_name) == {"headline (F1-F3)"} and (headline.family == 3).all()
    assert (tests[tests.band != "any"].family == 9).all()
    assert headline.p_holm.max() == 0.003  # Holm over the three headline tests alone
    assert smallest_adjusted_p(tests, 1000) == 3 / 1001
