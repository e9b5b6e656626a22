"""`astrohub models`, `astrohub eval NAME [--table FILE]` and `astrohub train` argument handling."""

import argparse
import json

import numpy as np
from astropy.table import Table

from astrohub.models import cli
from astrohub.sims.images import simulate_images


def run(argv, capsys):
    parser = argparse.ArgumentParser(prog="astrohub")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    rc = args.func(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_models_lists_zoo(capsys):
    rc, out, _ = run(["models"], capsys)
    assert rc == 0
    for name in ("galaxy_morphology", "lens_finder", "transient_realbogus", "cutout_denoiser"):
        assert name in out
    rc, out, _ = run(["models", "--json"], capsys)
    assert json.loads(out)["lens_finder"]["kind"] == "classifier"


def test_eval_fresh_and_tables(tmp_path, capsys):
    b = simulate_images("transient", 80, seed=555, size=32)
    np.savez(tmp_path / "t.npz", images=b.images, labels=b.labels)
    rc, out, err = run(["eval", "transient_realbogus", "--n", "60", "--table", str(tmp_path / "t.npz"), "--json"],
                       capsys)
    assert rc == 0, err
    res = json.loads(out)
    assert res["fresh"]["n"] == 60 and res["table"]["n"] == 80
    assert res["table"]["accuracy"] > 0.9
    from astrohub import models

    flagged = models.load("transient_realbogus").predict(b.images, mc_samples=0).ood
    assert res["table"]["ood"] == int(np.sum(flagged))  # rows flagged out of distribution, counted
    names = np.array(["real" if v else "bogus" for v in b.labels])
    Table({"image": b.images, "label": names}).write(tmp_path / "t.fits")
    rc, out, err = run(["eval", "transient_realbogus", "--n", "0", "--table", str(tmp_path / "t.fits")], capsys)
    assert rc == 0, err
    assert "t.fits" in out and '"accuracy"' in out


def test_eval_bad_inputs(tmp_path, capsys):
    rc, _, err = run(["eval", "nosuchmodel", "--n", "0"], capsys)
    assert rc == 2 and "unknown model 'nosuchmodel'" in err
    rc, _, err = run(["eval", "lens_finder", "--n", "0", "--table", str(tmp_path / "missing.npz")], capsys)
    assert rc == 2 and "missing.npz not found" in err
    np.savez(tmp_path / "nolabels.npz", pixels=np.zeros((2, 64, 64)))
    rc, _, err = run(["eval", "lens_finder", "--n", "0", "--table", str(tmp_path / "nolabels.npz")], capsys)
    assert rc == 2 and "needs an 'images' array" in err
    np.savez(tmp_path / "small.npz", images=np.random.default_rng(0).normal(size=(2, 32, 32)), labels=[0, 1])
    rc, _, err = run(["eval", "lens_finder", "--n", "0", "--table", str(tmp_path / "small.npz")], capsys)
    assert rc == 2 and "expects 64x64 pixel cutouts" in err
    (tmp_path / "junk.fits").write_text("not a table")
    rc, _, err = run(["eval", "lens_finder", "--n", "0", "--table", str(tmp_path / "junk.fits")], capsys)
    assert rc == 2 and "could not read" in err
    Table({"image": np.zeros((2, 64, 64))}).write(tmp_path / "nolabel.fits")
    rc, _, err = run(["eval", "lens_finder", "--n", "0", "--table", str(tmp_path / "nolabel.fits")], capsys)
    assert rc == 2 and "needs an 'image' column and a 'label'" in err


def test_train_unknown_name(capsys):
    rc, _, err = run(["train", "galaxy_morphologyy", "--epochs", "1"], capsys)
    assert rc == 2 and "did you mean 'galaxy_morphology'" in err


def test_train_resume_from_the_wrong_model_or_nothing(tmp_path, capsys):
    from astrohub.models.registry import ZOO

    rc, _, err = run(["train", "lens_finder", "--resume", str(ZOO / "galaxy_morphology"), "--out", str(tmp_path)],
                     capsys)
    assert rc == 2 and "cannot resume 'lens_finder' from a 'galaxy_morphology' checkpoint" in err
    rc, _, err = run(["train", "lens_finder", "--resume", str(tmp_path / "nothing"), "--out", str(tmp_path)], capsys)
    assert rc == 2 and "not found" in err
    assert not (tmp_path / "weights.safetensors").exists()  # nothing was trained or written


def test_lead_cli_wires_subcommands():
    from astrohub.cli import build_parser

    p = build_parser()
    args = p.parse_args(["eval", "lens_finder", "--n", "5"])
    assert args.func is cli.cmd_eval


def test_models_headline_leads_with_real_data_when_the_card_has_it(capsys, monkeypatch):
    from astrohub.models import registry

    real = {"kit": "ztf_alerts", "metrics": {"n": 200, "auc": 0.961, "auc_ci95": [0.942, 0.978]},
            "baseline": {"name": "ZTF rb", "metrics": {"auc": 0.89}}}
    get_card = registry.get_card
    monkeypatch.setattr(registry, "get_card", lambda n, zoo=None: (
        dict(get_card(n, zoo), validated_on_real=True, real=real) if n == "lens_finder" else get_card(n, zoo)))
    rc, out, _ = run(["models"], capsys)
    assert rc == 0
    lines = {ln.split()[0]: ln for ln in out.splitlines()[1:] if ln.strip()}
    assert lines["lens_finder"].endswith("real: AUC 0.961 [0.942, 0.978]; baseline ZTF rb AUC 0.890 | sim: acc 0.9610 "
                                         "AUC 0.9934 ECE 0.0102")
    assert "(sim only)" not in lines["lens_finder"]
    for name in ("galaxy_morphology", "galaxy_vae", "cutout_denoiser"):  # simulations only: said so
        assert lines[name].endswith("(sim only)") and "real:" not in lines[name]


def test_real_summaries_of_the_kits_shapes():
    """Lead figures with 95% intervals from classifier, photo-z (per subset) and kit-specific sections."""
    pz = {"kit": "sdss_photoz",
          "metrics": {"galaxies": {"n": 800, "sigma_nmad": 0.0191, "sigma_nmad_ci95": [0.0180, 0.0203],
                                   "outlier_fraction": 0.008, "outlier_fraction_ci95": [0.003, 0.014]},
                      "qso": {"outlier_fraction": 0.3}},
          "baseline": {"knn": {"galaxies": {"sigma_nmad": 0.0204}}}}
    card = {"validated_on_real": True, "real": pz}
    assert cli.real_summary(card) == ("real SDSS DR14 photometry (held-out split): galaxies: sigma_NMAD 0.0191 "
                                      "[0.0180, 0.0203], outliers 0.008 [0.003, 0.014]; baseline knn sigma_NMAD "
                                      "0.0204")
    vet = {"kit": "kepler_lightcurves", "targets": {"planet_windows_recognised": "all", "eb_windows_called_eb": "all"},
           "metrics": {"n": 14, "accuracy": 0.8, "accuracy_ci95": [0.6, 0.9],
                       "planet_windows_recognised": {"k": 11, "n": 11, "fraction": 1.0, "ci95": [0.741, 1.0]},
                       "eb_windows_called_eb": {"k": 2, "n": 3, "fraction": 0.667, "ci95": [0.208, 0.939]}},
           "baseline": {"method": "classical threshold rule on the same windows' BLS features",
                        "metrics": {"planet_windows_recognised": {"k": 9, "n": 11, "fraction": 0.818}}}}
    assert cli.real_headline(vet) == ("planet windows recognised 11/11 [0.741, 1.000], eb windows called eb 2/3 "
                                      "[0.208, 0.939]; baseline classical threshold rule planet windows recognised "
                                      "9/11")  # the targets' figures lead, k of n
    # a kit's own headline sentence is what the panel shows
    assert cli.real_summary({"validated_on_real": True, "real": dict(pz, headline=" real SDSS: all good ")}) == \
        "real SDSS: all good"
    assert cli.real_headline({"metrics": {"auc": {"value": 0.9, "ci95": [0.8, 0.95]}}}) == "AUC 0.900 [0.800, 0.950]"
    # a card that is not validated (or has no metrics) says so, whatever else it holds
    assert cli.real_summary({"validated_on_real": False, "real": pz}) == "not validated on real data"
    assert cli.real_summary({"validated_on_real": False, "real": dict(pz, selection_on_kit=True)}).startswith(
        "not a clean real-data validation (the kit also guided design choices): galaxies: sigma_NMAD 0.0191")
    assert cli.real_summary({"validated_on_real": True, "real": {"kit": "x"}}) == "not validated on real data"
    assert cli.real_headline({"metrics": {"n": 5}}) == "no real-data metrics"
