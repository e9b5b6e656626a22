"""`astrohub models|train|eval` with the 1-D models."""

import argparse
import json

import numpy as np
import pytest

from astrohub.models import cli

from .conftest import SERIES_MODELS


def run(argv, capsys):
    parser = argparse.ArgumentParser(prog="astrohub")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    rc = args.func(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_models_lists_1d_models_with_headlines(capsys):
    rc, out, _ = run(["models"], capsys)
    assert rc == 0
    lines = {ln.split()[0]: ln for ln in out.splitlines()[1:] if ln.strip()}
    for name in SERIES_MODELS:
        assert name in lines and "broken" not in lines[name]
    assert "planet AUC" in lines["transit_vetter"] and "sigma_NMAD" in lines["photoz_mdn"]
    rc, out, _ = run(["models", "--json"], capsys)
    assert json.loads(out)["photoz_mdn"]["kind"] == "photoz-mdn"


def test_eval_fresh_set_json(capsys):
    rc, out, _ = run(["eval", "spectral_class", "--n", "200", "--json"], capsys)
    assert rc == 0
    res = json.loads(out)
    assert res["fresh"]["seed"] == 207 and res["fresh"]["n"] == 200
    assert 0 <= res["fresh"]["accuracy"] <= 1 and "accuracy" in res["card"]


def test_eval_on_a_table_of_the_users_own_spectrum_files(tmp_path, capsys):
    """`astrohub eval spectral_class --table`: a CSV of real SDSS spectrum files (SDSS's spec layout, relative paths)
    and class names; the figures are those of predict() on the same files. Stellar parameters have no table
    evaluation, and say so."""
    import numpy as np
    from astropy.io import fits
    from astropy.table import Table

    from astrohub import models
    from astrohub.models.evaluation.kits import kit_dir
    from astrohub.models.evaluation.kits import sdss_spectra_lowz as K

    kit = K.load(kit_dir(K.KIT))
    names = np.asarray(kit["labels"])
    pick = [int(np.flatnonzero(names == c)[0]) for c in ("star", "galaxy", "qso")] + list(range(10, 16))
    (tmp_path / "spectra").mkdir()
    files = []
    for i in pick:
        t = kit["spectra"][i]
        cols = [fits.Column("flux", "E", array=np.asarray(t["FLUX"])),
                fits.Column("loglam", "E", array=np.log10(np.asarray(t["WAVE"]))),
                fits.Column("ivar", "E", array=np.ones(len(t)))]
        files.append(f"spectra/spec-{i:04d}.fits")
        fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="COADD")]).writeto(tmp_path /
                                                                                                     files[-1])
    model = models.load("spectral_class")
    Table({"path": files, "label": names[pick]}).write(tmp_path / "mine.csv")
    rc, out, err = run(["eval", "spectral_class", "--n", "0", "--table", str(tmp_path / "mine.csv"), "--json"],
                       capsys)
    assert rc == 0, err
    res = json.loads(out)["table"]
    pred = model.predict([tmp_path / f for f in files], mc_samples=0)
    hits = np.asarray(pred.names) == names[pick]
    assert res["n"] == len(pick) and res["accuracy"] == pytest.approx(hits.mean())
    assert res["ood"] == int(pred.ood.sum()) and sorted(res["recall"]) == sorted(model.class_names)
    rc, _, err = run(["eval", "stellar_params", "--n", "0", "--table", str(tmp_path / "mine.csv")], capsys)
    assert rc == 2 and "for stellar parameters, load the model and call predict() on your spectra" in err


def test_eval_on_a_catalogue_of_real_sdss_galaxies(tmp_path, capsys):
    """`astrohub eval photoz_mdn --table`: SDSS column names (modelMag_r, modelMagErr_r, z) found as the pipeline
    finds them; the figures are those of predict() on the same magnitudes. Bad catalogues are named."""
    from astropy.table import Table

    from astrohub import models
    from astrohub.models.evaluation import kits
    from astrohub.models.evaluation.kits import sdss_photoz

    kit = sdss_photoz.load(kits.kit_dir("sdss_photoz"))
    te = sdss_photoz.split(kit)["test"]
    te = te[kit["labels"][te] == sdss_photoz.CLASSES.index("galaxy")][:200]
    t = Table()
    for k, b in enumerate("ugriz"):
        t[f"modelMag_{b}"], t[f"modelMagErr_{b}"] = kit["mags"][te, k], kit["errors"][te, k]
    t["z"] = kit["redshift"][te]
    t.write(tmp_path / "sdss.csv")
    rc, out, err = run(["eval", "photoz_mdn", "--n", "0", "--table", str(tmp_path / "sdss.csv"), "--json",
                        "--plot", str(tmp_path / "z.png")], capsys)
    assert rc == 0, err
    got = json.loads(out)["table"]
    assert got["plot"] == str(tmp_path / "z.png") and (tmp_path / "z.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for argv, message in ((["--plot", str(tmp_path / "z.png")], "--plot draws the evaluation on your --table"),
                          (["--table", str(tmp_path / "sdss.csv"), "--plot", str(tmp_path / "no" / "z.png")],
                           f"--plot: folder {tmp_path / 'no'} does not exist"),
                          (["--table", str(tmp_path / "sdss.csv"), "--plot", str(tmp_path / "z.jpg")],
                           "--plot writes a PNG: give a file name ending in .png, got 'z.jpg'")):
        rc, _, err = run(["eval", "photoz_mdn", "--n", "0", *argv], capsys)
        assert rc == 2 and message in err
    rc, _, err = run(["eval", "stellar_params", "--n", "0", "--table", str(tmp_path / "sdss.csv"), "--plot",
                      str(tmp_path / "s.png")], capsys)
    assert rc == 2 and "stellar_params: --plot draws a classifier's confusion matrix or photo-z's" in err
    z = kit["redshift"][te]
    dz = (models.load("photoz_mdn").predict(kit["mags"][te], kit["errors"][te]).z_mode - z) / (1 + z)
    assert got["n"] == 200 and got["sigma_nmad"] == pytest.approx(1.4826 * np.median(np.abs(dz - np.median(dz))))
    assert got["sigma_nmad"] < 0.02 and len(got["sigma_nmad_ci95"]) == 2 and 0 <= got["coverage_68"] <= 1
    del t["modelMagErr_g"]
    t.write(tmp_path / "noerr.csv")
    rc, _, err = run(["eval", "photoz_mdn", "--n", "0", "--table", str(tmp_path / "noerr.csv")], capsys)
    assert rc == 2 and "no u g r i z magnitudes with errors (no error column for modelMag_g)" in err
    t["modelMagErr_g"] = t["modelMagErr_r"]
    t.rename_column("z", "zphot_guess")
    t.write(tmp_path / "noz.csv")
    rc, _, err = run(["eval", "photoz_mdn", "--n", "0", "--table", str(tmp_path / "noz.csv")], capsys)
    assert rc == 2 and "no spectroscopic redshift column (UCD src.redshift, or one of redshift, z" in err
    t.rename_column("zphot_guess", "redshift")
    t["redshift"][3] = np.nan
    t.write(tmp_path / "nanz.csv")
    rc, _, err = run(["eval", "photoz_mdn", "--n", "0", "--table", str(tmp_path / "nanz.csv")], capsys)
    assert rc == 2 and "1 row(s) have no redshift in 'redshift' (first: row 3); drop them first" in err


def test_eval_on_a_table_of_kepler_and_tess_files(tmp_path):
    """`astrohub eval transit_vetter --table`: the kit's mission FITS files listed with their classes (absolute
    paths), scored as predict() scores them."""
    import csv

    from astropy.table import Table

    from astrohub import models
    from astrohub.models.evaluation import kits
    from astrohub.models.evaluation.evaluate import evaluate

    where = kits.kit_dir("kepler_lightcurves")
    rows = [r for r in csv.DictReader(open(where / "labels.csv")) if r["file"].endswith(".fits")][:4]
    files, labels = [str(where / r["file"]) for r in rows], [r["model_class"] for r in rows]
    assert len(set(labels)) == 2  # planets and an eclipsing binary
    Table({"file": files, "label": labels}).write(tmp_path / "lc.ecsv")
    vetter = models.load("transit_vetter", device="cpu")
    got = evaluate("transit_vetter", n=0, table=tmp_path / "lc.ecsv", model=vetter, real=False)["table"]
    direct = vetter.predict(files, mc_samples=0)
    assert got["n"] == 4 and got["accuracy"] == pytest.approx(np.mean(np.array(direct.names) == np.array(labels)))
    assert got["ood"] == int(np.sum(direct.ood)) and got["kind"] == "lightcurve-classifier"


def test_train_unknown_1d_name(capsys):
    rc, _, err = run(["train", "photoz_mdm", "--epochs", "1"], capsys)
    assert rc == 2 and "unknown model 'photoz_mdm'" in err


def test_models_headlines_of_1d_models_say_where_they_were_measured(capsys):
    from astrohub.models.registry import get_card

    rc, out, _ = run(["models"], capsys)
    lines = {ln.split()[0]: ln for ln in out.splitlines()[1:] if ln.strip()}
    for name in SERIES_MODELS:
        card = get_card(name)
        if card.get("real", {}).get("metrics"):  # real held-out metric first, simulations second
            assert " real: " in lines[name] and " | sim: " in lines[name]
            assert lines[name].index(" real: ") < lines[name].index(" | sim: ")
        else:
            assert lines[name].endswith("(sim only)") and "real:" not in lines[name]
