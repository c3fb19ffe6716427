"""The reports opened in headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

Skips, with the reason, where the binaries are missing; never downloads a browser.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from callreplay.report import render_reports

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
LEGACY = "incident-inbound-gets-outbound-prompt--legacy"
FIXED = "incident-inbound-gets-outbound-prompt--fixed"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1400,1000")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def driver():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(f"headless Chromium not installed ({', '.join(missing)} missing): "
                    "apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="callreplay-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def incident_site(incident_results, tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site") / "reports"
    shutil.copytree(incident_results, site)
    render_reports(site)
    return site


def _open(driver, page: Path) -> list[dict]:
    driver.get(page.as_uri())
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def _screenshot(driver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(int(height), 800), 6000))
    driver.save_screenshot(str(SCREENSHOTS / name))
    driver.set_window_size(1400, 1000)


def test_index_tells_expected_failures_from_clean_passes(driver, incident_site):
    from selenium.webdriver.common.by import By

    assert _open(driver, incident_site / "index.html") == []
    links = {a.get_attribute("href").rsplit("/", 1)[-1]: a
             for a in driver.find_elements(By.CSS_SELECTOR, "#t-matrix td.cell a")}
    legacy = links[f"{LEGACY}.html"].find_element(By.CSS_SELECTOR, ".badge")
    fixed = links["incident-inbound-gets-outbound-prompt--fixed.html"].find_element(By.CSS_SELECTOR, ".badge")
    assert legacy.text == "✓ expected findings: pass" and "o-expected" in legacy.get_attribute("class")
    assert fixed.text == "✓ pass" and "o-pass" in fixed.get_attribute("class")
    assert legacy.value_of_css_property("background-color") != fixed.value_of_css_property("background-color")
    legacy_counts = links[f"{LEGACY}.html"].find_element(By.CSS_SELECTOR, ".counts").text
    fixed_counts = links[f"{FIXED}.html"].find_element(By.CSS_SELECTOR, ".counts").text
    assert legacy_counts.startswith("4 error") and fixed_counts.startswith("0 error")
    _screenshot(driver, "index.png")


def test_index_filters_and_sorts_without_a_server(driver, incident_site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _open(driver, incident_site / "index.html")
    rows = driver.find_elements(By.CSS_SELECTOR, "#t-findings tbody tr")
    Select(driver.find_element(By.ID, "f-detector")).select_by_value("direction-contamination")
    visible = [r for r in rows if r.is_displayed()]
    assert 0 < len(visible) < len(rows)
    assert all("direction-contamination" in r.text for r in visible)
    Select(driver.find_element(By.ID, "f-detector")).select_by_value("")
    driver.find_element(By.CSS_SELECTOR, "#t-findings thead th:nth-child(1) button").click()  # severity
    driver.find_element(By.CSS_SELECTOR, "#t-findings thead th:nth-child(1) button").click()  # descending
    first = driver.find_element(By.CSS_SELECTOR, "#t-findings tbody tr td").text
    assert first == "error"


def test_incident_page_timeline_and_instructions(driver, incident_site):
    from selenium.webdriver.common.by import By

    assert _open(driver, incident_site / "scenarios" / f"{LEGACY}.html") == []
    svg = driver.find_element(By.ID, "timeline-svg")
    markers = svg.find_elements(By.CSS_SELECTOR, 'circle.tl-finding[data-detector="direction-contamination"]')
    assert markers
    href = markers[0].find_element(By.XPATH, "..").get_dom_attribute("href")
    anchor = href.rsplit("#", 1)[1]
    target = driver.find_element(By.ID, anchor)
    assert target.get_attribute("data-detector") == "direction-contamination"
    bars = svg.find_elements(By.CSS_SELECTOR, 'rect.tl-outlived[data-detector="prompt-outlived-ttl"]')
    assert bars
    call_bar = svg.find_elements(By.CSS_SELECTOR, "rect.tl-call")[0]  # the first call's span on its lane
    bar_end = float(bars[0].get_attribute("x")) + float(bars[0].get_attribute("width"))
    call_end = float(call_bar.get_attribute("x")) + float(call_bar.get_attribute("width"))
    assert abs(bar_end - call_end) < 1.5
    assert float(bars[0].get_attribute("width")) >= 4
    body = driver.find_element(By.CSS_SELECTOR, "#call-0 .instr .seg-body.flagged")
    assert "ביטוח רכב במחיר מיוחד" in body.text
    assert "outbound_ai_prompt" in body.text
    _screenshot(driver, "incident-legacy.png")


def test_xss_scenario_executes_no_script(driver, xss_results, tmp_path):
    site = tmp_path / "reports"
    shutil.copytree(xss_results, site)
    render_reports(site)
    for page in [site / "index.html", *sorted((site / "scenarios").glob("*.html"))]:
        driver.get(page.as_uri())
        assert driver.execute_script("return window.__xss === undefined"), page.name
        assert driver.title != "pwned"
        if page.name != "index.html":
            assert "<script>window.__xss=1;document.title='pwned'</script>" in driver.title  # shown as text
        assert driver.execute_script("return document.querySelectorAll('img').length") == 0
        assert [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] == [], page.name
