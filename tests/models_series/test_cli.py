"""`astrohub models|train|eval` with the 1-D models."""

import argparse
import json

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


def test_eval_table_refused_for_1d(tmp_path, capsys):
    rc, _, err = run(["eval", "photoz_mdn", "--n", "0", "--table", str(tmp_path / "x.fits")], capsys)
    assert rc == 2 and "--table is only supported for the image models" in err


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
