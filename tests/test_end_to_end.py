"""The whole study on a slice of the real clips: training, CAMs, formants, agreement, report."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import zipfile

import h5py
import numpy as np
import pandas as pd
import torch

from spectrocam.evidence.verdict import STATEMENTS
from spectrocam.explain.maps import MapFile
from spectrocam.explain.methods import METHOD_NAMES
from spectrocam.phones import strip_stress

from .conftest import TEXTGRIDS, require_shared
from .test_workflow import (
    EXPERIMENTS,
    VOWELS,
    WIDE_SLICE,
    check_ok,
    nothing_to_do,
    snakemake,
    snakemake_cmd,
    write_config,
)


def call(low: float, high: float, n: int) -> str:
    """The call of an interval, worked here: above or below 0, else unclear."""
    if not n:
        return "no tokens"
    return "above" if low > 0 else "below" if high < 0 else "unclear"


def holm_by_hand(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment, one p-value at a time."""
    order, out, running = np.argsort(p, kind="stable"), np.empty(len(p)), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out


def check_verdict(out) -> None:
    """The verdict's line per experiment from the table of every test, and Holm within each
    family, recomputed here."""
    verdict = pd.read_csv(out / "report/verdict.tsv", sep="\t").set_index("experiment")
    assert sorted(verdict.index) == sorted(EXPERIMENTS)
    assert verdict["accuracy over seeds"].str.endswith("2 seeds)").all()
    tests = pd.read_csv(out / "report/tests.tsv", sep="\t")
    assert set(tests.model) == {"seed0", "seed1"}
    for family, rows in tests.groupby("family"):
        tested = rows.dropna(subset=["p"])
        np.testing.assert_allclose(tested.p_holm, holm_by_hand(tested.p.to_numpy()))
        assert (rows.family_size == len(tested)).all(), family
    yes = (tests.p_holm < 0.05) & (tests.low > 0)
    for name in EXPERIMENTS:
        head = tests[(tests.experiment == name) & (tests.family == "headline")]
        assert len(head) == 3 and (head.model == "seed0").all() and (head.cue == "any").all()
        needs = head.statement == STATEMENTS[0]
        assert needs.sum() == 1
        assert verdict.loc[name, STATEMENTS[0]] == ("yes" if yes[head.index[needs]].all() else "no")
        maps = head.index[~needs]
        assert verdict.loc[name, STATEMENTS[1]] == ("yes" if yes[maps].all() else "no")


def test_the_study_end_to_end(study):
    tmp_path, config = study
    out = tmp_path / "results" / "test"
    splits = pd.read_csv(out / "splits/splits.tsv", sep="\t").set_index("utt_id")["split"]
    formants = pd.read_csv(out / "formants/formants.tsv", sep="\t")
    phones = pd.read_csv(out / "alignment/textgrids/phones.tsv", sep="\t")
    assert len(formants) == int(phones.phone.map(strip_stress).isin(VOWELS).sum())
    defined = formants.dropna(subset=["f1_hz", "f2_hz"])
    assert len(defined) > 0.95 * len(formants)
    assert (defined.f1_hz < defined.f2_hz).mean() > 0.95
    summary = json.loads((out / "report/summary.json").read_text())
    page = (out / "report/index.html").read_text()

    for name in EXPERIMENTS:
        history = pd.read_csv(out / f"models/{name}/seed0/history.tsv", sep="\t")
        assert list(history.epoch) == [1]
        assert {"collapsed", "val_top_share"} <= set(history.columns)
        with h5py.File(out / f"segments/{name}.h5") as h5:
            store_utts = h5["utt_id"].asstr()[:]
            grid = (len(h5["freqs_hz"]), len(h5["times_s"]))
            freqs = h5["freqs_hz"][:]
        test_idx = np.flatnonzero(pd.Series(store_utts).map(splits).to_numpy() == "test")

        metrics = json.loads((out / f"evaluation/{name}/seed0/metrics.json").read_text())
        predictions = pd.read_csv(out / f"evaluation/{name}/seed0/predictions.tsv", sep="\t")
        assert metrics["n"] == len(test_idx) == len(predictions)
        assert metrics["accuracy"] == predictions.correct.mean()
        low, high = metrics["intervals"]["accuracy"][1:]
        assert low <= metrics["accuracy"] <= high
        references = json.loads((out / f"evaluation/{name}/references.json").read_text())
        kinds = [r["classifier"] for r in references["rows"]]
        assert kinds[0] == "network" and kinds[1].startswith("majority")
        assert ("formants (LDA)" in kinds) == (name != "voicing_4k")
        evidence = pd.read_csv(out / f"evidence/{name}/seed0_summary.tsv", sep="\t")
        assert set(evidence.method) == set(METHOD_NAMES)
        # a second seed and a model trained on shuffled labels, each its own model
        seed1 = json.loads((out / f"evaluation/{name}/seed1/metrics.json").read_text())
        assert seed1["n"] == metrics["n"] and seed1["confusion"] != metrics["confusion"]
        shuffled = torch.load(out / f"models/{name}/shuffled/best.pt", weights_only=False)
        assert shuffled["meta"]["config"]["seed"] == 0
        assert "labels shuffled" in (out / f"logs/models/{name}/shuffled_train.log").read_text()
        assert {"minus_spectrum", "minus_envelope", "minus_prior", "minus_class_mean"} <= set(
            evidence.columns
        )
        assert set(evidence.spectrum_power.astype(str)) == {"db"}  # the description's scale
        cues = ["voicing_bar", "frication"] if name == "voicing_4k" else ["F1", "F2", "F3"]
        # the map statement: every seed against the shuffled-labels model, each distinct method
        # once (the others named in same_maps), per cue and any cue
        for seed in ("seed0", "seed1"):
            c = pd.read_csv(out / f"evidence/{name}/{seed}_contrasts.tsv", sep="\t")
            assert set(c.control) == {"shuffled labels"} and list(c.cue[: len(cues) + 1]) == [
                *cues,
                "any",
            ]
            named = set(c.method) | {m for s in c.same_maps.dropna() for m in str(s).split()}
            assert named == set(METHOD_NAMES) and not c.duplicated(["method", "cue"]).any()
            assert c.difference.between(-1, 1).all() and (c.low <= c.high).all()
        cam = c[(c.method == "cam") & (c.cue == "any")].iloc[0]
        assert cam.n_tokens <= len(test_idx) and cam.n_clusters <= cam.n_tokens
        # ... and against the randomised weights, each cascade step, no token dropped
        sanity = pd.read_csv(out / f"sanity/{name}_randomised.tsv", sep="\t")
        assert set(sanity.step) == {"fc", "layer4", "conv1"} and "scorecam" not in set(
            sanity.method
        )
        cam_any = sanity[(sanity.method == "cam") & (sanity.cue == "any")]
        assert (cam_any.n_tokens == cam.n_tokens).all()  # every token with maps and cues
        # the causal statement, every band of every chosen token, and at each Praat ceiling
        needs = pd.read_csv(out / f"causal/{name}_needs.tsv", sep="\t")
        assert list(needs.cue) == [*cues, "any"] and set(needs.half_width_hz) == {150}
        assert (needs.n_tokens <= 8).all() and needs.share_matched.dropna().between(0, 1).all()
        bands = pd.read_csv(out / f"causal/{name}_bands.tsv", sep="\t")
        assert (bands.removed_db >= 0).all() and (bands[bands.band == "none"].removed_db == 0).all()
        assert bands.groupby("token").band.apply(lambda b: (b == "tile").sum()).nunique() == 1
        ceilings = pd.read_csv(out / f"causal/{name}_needs_ceilings.tsv", sep="\t")
        expected = (
            {"configured"} if name == "voicing_4k" else {"configured", "5000", "5500", "6000"}
        )
        assert set(ceilings.ceiling.astype(str)) == expected
        # each ceiling's call worked from its interval, and whether it holds from the configured
        worked = [
            call(*r) for r in zip(ceilings.low, ceilings.high, ceilings.n_tokens, strict=True)
        ]
        assert ceilings["call"].tolist() == worked
        configured = ceilings[ceilings.ceiling == "configured"].set_index("cue")["call"]
        assert (ceilings.holds == (ceilings.cue.map(configured) == ceilings["call"])).all()
        np.testing.assert_allclose(c.difference, c.auc_trained - c.auc_control)
        assert np.asarray(metrics["confusion"]).sum() == len(test_idx)
        confusion = pd.read_csv(out / f"evaluation/{name}/seed0/confusion.csv", index_col=0)
        assert confusion.to_numpy().tolist() == metrics["confusion"]
        assert set(predictions.utt_id) <= set(splits[splits == "test"].index)

        maps = MapFile(out / f"maps/{name}/seed0.h5")
        assert maps.methods == list(METHOD_NAMES)
        assert list(maps.segments.segment_index) == list(test_idx)
        assert list(maps.segments.phone_id) == list(predictions.phone_id)
        assert maps.cells("cam", "predicted").shape[0] == len(test_idx)
        assert maps.grid("cam", "true", 0).shape == grid
        assert np.array_equal(maps.freqs_hz, freqs)
        assert maps.method_attrs("cam")["hz_per_cell"] == (freqs[1] - freqs[0]) * 32
        assert maps.method_attrs("gradcam")["hz_per_cell"] == (freqs[1] - freqs[0]) * 4  # layer1
        class_index = {c: i for i, c in enumerate(metrics["class_names"])}
        assert (maps.segments.predicted == predictions.predicted.map(class_index)).all()
        subset = maps.rows("gradcam")
        assert set(subset) < set(range(len(test_idx))) and list(maps.common_rows()) == list(subset)
        assert np.bincount(maps.segments.label.to_numpy()[subset]).max() <= 10

        every = pd.read_csv(out / f"agreement/{name}_segments.tsv", sep="\t")
        agreement = every[every.method == "cam"]
        vowel_tests = predictions[predictions.phone.map(strip_stress).isin(VOWELS)]
        assert len(agreement) == 2 * len(vowel_tests)  # the true and the predicted class's CAM
        # every other method: the true class's map of the subset of explain.max_per_class
        for method in METHOD_NAMES[1:]:
            rows = every[every.method == method]
            assert 0 < len(rows) <= len(subset) and (rows.cam == "true").all()
        null = pd.read_csv(out / f"agreement/{name}_null.tsv", sep="\t")
        assert set(null.method) == set(METHOD_NAMES) and null.p.between(0, 1).all()
        deletion = pd.read_csv(out / f"causal/{name}_deletion_summary.tsv", sep="\t")
        assert set(deletion.method) == {*METHOD_NAMES, "random", "energy", "low_to_high"}
        comparison = pd.read_csv(out / f"report/{name}/comparison.tsv", sep="\t")
        assert list(comparison.method) == list(METHOD_NAMES)
        # NaN only where a CAM is nowhere positive inside the vowel (counted, not dropped)
        assert agreement.ratio_any.notna().mean() > 0.8
        assert agreement.share_any.dropna().between(0, 1).all()
        table = pd.read_csv(out / f"agreement/{name}_summary.tsv", sep="\t")
        whole = table[
            (table.cam == "true") & (table.class_name == "(all)") & (table.outcome == "all")
        ].iloc[0]
        assert whole.n_segments == len(vowel_tests)
        assert whole.ratio_any_low <= whole.ratio_any <= whole.ratio_any_high

        for figure in ("confusion", "history", "profiles", "examples", "methods", "vowel_chart",
                       "paper"):  # fmt: skip
            assert (out / f"report/{name}/{figure}.png").read_bytes()[:4] == b"\x89PNG"
            assert (out / f"report/{name}/{figure}.svg").read_text().count("<svg") >= 1
        assert summary["experiments"][name]["accuracy"] == metrics["accuracy"]
        assert f"{metrics['accuracy']:.3f}" in page and name in page

    verdict = pd.read_csv(out / "report/verdict.tsv", sep="\t").set_index("experiment")
    assert sorted(verdict.index) == sorted(EXPERIMENTS)  # one line per experiment
    assert verdict["accuracy over seeds"].str.endswith("2 seeds)").all()
    check_verdict(out)  # each line's yes or no from the headline tests, Holm recomputed
    assert (
        verdict["AUC minus randomised weights"]
        .str.contains(r"\], n \d+ \(\d+ clusters\), p ")
        .all()
    )
    tests = pd.read_csv(out / "report/tests.tsv", sep="\t")
    assert set(tests.model) == {"seed0", "seed1"}
    assert (tests.p_holm.dropna() >= tests.p.dropna() - 1e-12).all()
    headline = tests[tests.family == "headline"]
    assert len(headline) == 3 * len(EXPERIMENTS) and (headline.family_size == len(headline)).all()
    assert (tests.survives == ((tests.p_holm < 0.05) & (tests.low > 0))).all()
    for _, family in tests.groupby("family"):
        assert (family.family_size == family.p.notna().sum()).all()
    # the answer first, then the contents and the folded detail
    assert page.index('<section id="answer">') < page.index('<nav id="contents">')
    assert page.index('<nav id="contents">') < page.index("<h2>Run and headline figures</h2>")
    for name in EXPERIMENTS:
        assert f'src="{name}/paper.png"' in page and (out / f"report/{name}/paper.svg").exists()
    comparison = pd.read_csv(out / "report/formants.tsv", sep="\t").set_index("vowel")
    assert abs(comparison.loc["IY", "hillenbrand_f2_hz"] - 2761) < 30  # the women's mean
    assert comparison.loc["IY", "f2_mean_hz"] > comparison.loc["AA", "f2_mean_hz"]

    explorer = out / "report/explorer"
    sizes = json.loads((explorer / "sizes.json").read_text())
    assert list(sizes["experiments"]) == list(summary["experiments"])
    for name, size in sizes["experiments"].items():
        assert size["tokens"] == summary["experiments"][name]["test_segments"]
        assert (explorer / f"data/{name}.js").stat().st_size == size["table_bytes"]
        assert len(list((explorer / f"data/{name}").glob("*.js"))) == size["chunks"]
    assert "explorer/index.html" in page

    assert nothing_to_do(tmp_path, config)
    report = tmp_path / "report.zip"  # made by the fixture, after the run
    assert report.stat().st_size > 10_000
    with zipfile.ZipFile(report) as z:
        names = z.namelist()
        html = z.read("report/report.html").decode("utf-8")
        results = report_var(html, "results")
        page_entry = results["results/test/report/summary_page.html"]
        standalone = z.read(f"report/{page_entry['data_uri']}").decode("utf-8")
    assert sum(n.endswith("/sizes.json") for n in names) == 1  # the explorer, with its data
    chunks = sizes["experiments"]["vowels_4k"]["chunks"]
    assert sum("/data/vowels_4k/" in n for n in names) == chunks
    # the report opens on its introduction (workflow/report/workflow.rst, with the run's name)
    intro = report_var(html, "workflow_desc")
    assert "spectrocam asks whether a ResNet" in intro and ">test<" in intro
    # the summary page, the verdict and every test come first, labelled; then the figures, one
    # subcategory per experiment
    categories = report_var(html, "categories")
    assert sorted(categories) == ["1. Verdict", "2. Experiments", "3. Formants", "4. Explorer"]
    assert sorted(categories["2. Experiments"]) == sorted(EXPERIMENTS)
    assert sorted(sum(categories["1. Verdict"].values(), [])) == [
        f"results/test/report/{name}" for name in ("summary_page.html", "tests.tsv", "verdict.tsv")
    ]
    assert page_entry["labels"]["file"] == "summary page"
    confusion = results["results/test/report/vowels_4k/confusion.png"]
    assert confusion["labels"] == {"figure": "confusion matrix"}
    # the summary page opens there with its figures: every image inlined, the same headings
    sources = re.findall(r"""<img\b[^>]*?\bsrc=['"]([^'"]*)""", standalone)
    assert len(sources) == page.count("<img") > 0
    assert all(src.startswith("data:image/") for src in sources)
    assert page[page.index("<h1>") : page.index("</h1>")] in standalone
    # A late change (the agreement band) leaves training, CAMs and formants alone.
    changed = write_config(
        tmp_path, clips=WIDE_SLICE, alignment=TEXTGRIDS, agreement={"window_hz": 100}
    )
    proc = snakemake(tmp_path, changed, "-n")
    write_config(tmp_path, clips=WIDE_SLICE, alignment=TEXTGRIDS)  # the run's, for later tests
    check_ok(proc)
    assert "rule agreement:" in proc.stdout and "rule summary:" in proc.stdout
    assert "rule explorer:" in proc.stdout
    for rule in ("train", "test_model", "maps", "formants", "segments"):
        assert f"rule {rule}:" not in proc.stdout


def report_var(html: str, name: str):
    """A variable of a ``snakemake --report`` page (``var <name> = <JSON>;``, after the scripts
    of the libraries it inlines)."""
    start = html.rindex(f"var {name} = ") + len(f"var {name} = ")
    return json.JSONDecoder().raw_decode(html[start:])[0]


def test_killed_training_resumes_from_its_checkpoint(tmp_path):
    require_shared()
    config = write_config(
        tmp_path,
        clips=WIDE_SLICE,
        alignment=TEXTGRIDS,
        training={"epochs": 5, "samples_per_class": 48},
    )
    out = tmp_path / "results" / "test"
    target = "results/test/models/vowels_4k/seed0/best.pt"
    checkpoint = out / "models/vowels_4k/seed0/checkpoint/last.pt"
    proc = subprocess.Popen(
        snakemake_cmd(tmp_path, config, target),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 400
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists(), "training never finished its first epoch"
    saved = torch.load(checkpoint, weights_only=False)
    assert saved["epoch"] < 5 and not (out / "models/vowels_4k/seed0/best.pt").exists()

    check_ok(snakemake(tmp_path, config, "--unlock"))
    check_ok(snakemake(tmp_path, config, target))
    log = (out / "logs/models/vowels_4k/seed0_train.log").read_text()
    assert f"resuming from the checkpoint of epoch {saved['epoch']}/5" in log
    history = pd.read_csv(out / "models/vowels_4k/seed0/history.tsv", sep="\t")
    assert list(history.epoch) == [1, 2, 3, 4, 5]
    before = pd.DataFrame(saved["history"])
    pd.testing.assert_frame_equal(
        history.iloc[: len(before)].reset_index(drop=True), before, check_dtype=False
    )
