"""Under the defaults no recorded phone number reaches anything written to the report directory."""

import re

from callreplay.report import render_reports
from callreplay.runner import RunOptions, run_all
from callreplay.testing import business, inbound_call, scenario_from_dict

# every recorded number of the scenario, as digit runs (separators removed before searching)
NUMBERS = ("972501234567", "0501234567", "97231234567", "031234567")


def _scenario(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    b = business(ai_prompt="", outbound_ai_prompt="התקשר ללקוח, והשאר מספר חזרה 03-123-4567 או +972501234567.")
    b["greeting"] = "שלום, זה 050-123-4567"
    scenario_from_dict({"name": "pii", "businesses": [b], "steps": inbound_call(talk="8s"),
                        "expect": {"legacy": [{"finding": "direction-contamination"}]}}, folder)
    return folder


def _written(report_dir):
    for path in sorted(report_dir.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".csv", ".json", ".jsonl"):
            yield path, path.read_text(encoding="utf-8")


def test_no_phone_digits_in_results_traces_or_pages(tmp_path):
    out = tmp_path / "reports"
    run_all([_scenario(tmp_path)], RunOptions(report_dir=out))
    render_reports(out)
    seen = 0
    for path, text in _written(out):
        seen += 1
        compact = re.sub(r"[\s\-()]", "", text)
        leaked = [n for n in NUMBERS if n in compact]
        assert leaked == [], f"{path.name} shows {leaked}"
    assert seen >= 4


def test_show_pii_keeps_them(tmp_path):
    out = tmp_path / "reports"
    run_all([_scenario(tmp_path)], RunOptions(report_dir=out, show_pii=True))
    render_reports(out, show_pii=True)
    assert any("+972501234567" in text for _, text in _written(out))


# every form of the shared corpus, in several countries, plus a token by shape and one by key
def _corpus_scenario(tmp_path):
    from tests.robust.test_privacy_forms import NATIONAL_ONLY, TOKEN, WRITTEN

    folder = tmp_path / "corpus"
    folder.mkdir()
    forms = WRITTEN + NATIONAL_ONLY
    b = business(ai_prompt="חזרו אלינו: " + " או ".join(forms) + f". מפתח {TOKEN}.")
    steps = inbound_call(talk="3s")
    steps[0]["params"].update({"AuthToken": "plain-words-secret", "Notes": f"token {TOKEN}"})
    scenario_from_dict({"name": "pii-corpus", "businesses": [b], "steps": steps}, folder)
    return folder, forms, TOKEN


def test_no_form_of_any_country_and_no_token_reaches_any_output(tmp_path):
    folder, forms, token = _corpus_scenario(tmp_path)
    out = tmp_path / "reports"
    run_all([folder], RunOptions(report_dir=out))
    render_reports(out)
    seen = 0
    for path, text in _written(out):
        seen += 1
        compact = re.sub(r"\D", "", text)
        leaked = [f for f in forms if re.sub(r"\D", "", f) in compact]
        assert leaked == [], f"{path.name} shows {leaked}"
        assert token not in text and "plain-words-secret" not in text, path.name
    assert seen >= 4
