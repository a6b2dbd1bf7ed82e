"""`guidekb studio` end to end in a real headless browser: Debian's chromium driven by Selenium
through Debian's chromedriver, against `guidekb studio` run as a command on a copy of the
default knowledge base.

Load the page; fill the playground and see the engine's answer; save it as a scenario; break a
rule file on disk (as the author's editor would) and see the problem appear with its location;
fix it and see it go. Every wait is a WebDriverWait with a generous limit: nothing here times
the page (speed targets live in `make bench`).

Skipped, with the reason, where chromium or chromedriver is not installed
(scripts/ensure-system-deps.sh installs both as root on Debian).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
    pytest.skip("Debian's chromium and chromium-driver are not installed (/usr/bin/chromium, "
                "/usr/bin/chromedriver): sudo apt-get install chromium chromium-driver "
                "(scripts/ensure-system-deps.sh does so as root)", allow_module_level=True)
pytest.importorskip("selenium", reason="selenium is not installed: pip install -e '.[dev]'")
pytest.importorskip("starlette", reason="the 'studio' extra is not installed: pip install 'guidekb[studio]'")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

import guidekb  # noqa: E402
from tests.conftest import HSV_KB  # noqa: E402
from tests.test_studio import running_studio  # noqa: E402

WAIT_SECONDS = 90  # generous: the machine is shared with other jobs
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--window-size=1400,1000")


@pytest.fixture(scope="module")
def kb_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("studio-browser") / "hsv-resistance"
    shutil.copytree(HSV_KB, folder)
    return folder


@pytest.fixture(scope="module")
def studio_url(kb_copy: Path) -> Iterator[str]:
    with running_studio(kb_copy, kb_copy.parent) as (_, url):
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp_path_factory.mktemp("chromium"))
    options.add_argument(f"--user-data-dir={profile}")  # a fresh profile every run
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait(browser: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(browser, WAIT_SECONDS, poll_frequency=0.1)


def text(browser: WebDriver, css: str) -> str:
    found = browser.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else ""


def codes(browser: WebDriver, list_id: str) -> list[str]:
    return [item.get_attribute("data-code") or "" for item in
            browser.find_elements(By.CSS_SELECTOR, f"#{list_id} > li[data-code]")]


def valid_and_checked(browser: WebDriver) -> Any:
    return text(browser, "#summary") == "valid; everything checked"


def test_the_page_loads_and_shows_every_panel(browser: WebDriver, studio_url: str) -> None:
    browser.get(studio_url)
    wait(browser).until(valid_and_checked)
    assert "hsv-resistance" in text(browser, "#kb-name")
    for panel in ("validation", "scenarios", "proofs", "lint", "coverage", "charts"):
        section = browser.find_element(By.ID, f"panel-{panel}")
        assert section.get_attribute("data-status") == "done", panel
        assert "stale" not in (section.get_attribute("class") or "")
    assert "passed, 0 failed" in text(browser, "#panel-scenarios .badge")
    assert text(browser, "#panel-proofs .badge") == "14 of 14 proved"
    if shutil.which("dot"):
        assert browser.find_elements(By.CSS_SELECTOR, "#panel-charts figure img")
    else:
        assert "graphviz" in text(browser, "#charts-unavailable")


def test_the_playground_answers_as_the_engine_does(browser: WebDriver, studio_url: str,
                                                  kb_copy: Path) -> None:
    browser.get(studio_url)
    wait(browser).until(lambda b: b.find_elements(By.ID, "fact-susceptibility_result"))
    # every fact starts unknown: the empty case's answer
    kb = guidekb.load(kb_copy)
    empty = guidekb.evaluate(kb, {})
    wait(browser).until(lambda b: b.find_element(By.ID, "answer").get_attribute("data-state") == "answer")
    assert all(Select(s).first_selected_option.text == "unknown"
               for s in browser.find_elements(By.CSS_SELECTOR, "#case-form select"))
    assert codes(browser, "answer-forbidden") == empty.forbidden_codes()

    Select(browser.find_element(By.ID, "fact-susceptibility_result")).select_by_value("acyclovir_resistant")
    Select(browser.find_element(By.ID, "fact-renal_impairment")).select_by_value("true")
    browser.find_element(By.ID, "fact-days_on_therapy").send_keys("18")
    case = {"susceptibility_result": "acyclovir_resistant", "renal_impairment": True, "days_on_therapy": 18}
    answer = guidekb.evaluate(kb, case)
    assert answer.recommended_codes() and answer.forbidden_codes()
    wait(browser).until(lambda b: codes(b, "answer-recommended") == answer.recommended_codes()
                        and "days_on_therapy=18" in text(b, "#answer"))
    assert codes(browser, "answer-forbidden") == answer.forbidden_codes()
    first = answer.recommendations[0]
    shown = browser.find_element(By.CSS_SELECTOR, f'#answer-recommended li[data-code="{first.code}"]')
    assert first.provenance[0].quote in shown.text  # the source quote, verbatim
    assert first.rule in shown.text

    browser.find_element(By.ID, "scenario-name").send_keys("from-the-browser")
    browser.find_element(By.ID, "save-scenario").click()
    wait(browser).until(lambda b: "wrote" in text(b, "#save-result") or "error" in
                        (b.find_element(By.ID, "save-result").get_attribute("class") or ""))
    assert "from-the-browser.yaml" in text(browser, "#save-result")
    [result] = guidekb.run_scenarios(kb, [kb_copy / "scenarios" / "from-the-browser.yaml"])
    assert result.passed and result.loaded.scenario.case == case
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, 'li.scenario[data-name="from-the-browser"]'))
    # saved twice under the same name: refused, the file untouched
    before = (kb_copy / "scenarios" / "from-the-browser.yaml").read_bytes()
    browser.find_element(By.ID, "save-scenario").click()
    wait(browser).until(lambda b: "already exists" in text(b, "#save-result"))
    assert (kb_copy / "scenarios" / "from-the-browser.yaml").read_bytes() == before


def test_a_problem_saved_on_disk_appears_and_goes_once_fixed(browser: WebDriver, studio_url: str,
                                                             kb_copy: Path) -> None:
    browser.get(studio_url)
    wait(browser).until(valid_and_checked)
    rules = kb_copy / "rules" / "dosing.yaml"
    good = rules.read_text(encoding="utf-8")
    assert "\n    then:\n" in good
    rules.write_text(good.replace("\n    then:\n", "\n    then_:\n", 1), encoding="utf-8")
    try:
        wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#problems li.problem"))
        problem = next(p for p in browser.find_elements(By.CSS_SELECTOR, "#problems li.problem")
                       if "then_" in p.text)
        line = next(n for n, text_line in enumerate(rules.read_text().splitlines(), 1) if "then_:" in text_line)
        link = problem.find_element(By.CSS_SELECTOR, "a.loc")
        assert link.text.endswith(f"dosing.yaml:{line}:5")
        assert link.get_attribute("href") == f"vscode://file{rules.resolve()}:{line}:5"
        assert "did you mean 'then'?" in problem.text
        assert "problem" in text(browser, "#summary")
        # the other panels are not shown as current
        wait(browser).until(lambda b: b.find_element(By.ID, "panel-scenarios").get_attribute("data-status")
                            == "blocked")
        assert "stale" in (browser.find_element(By.ID, "panel-scenarios").get_attribute("class") or "")
        wait(browser).until(lambda b: b.find_elements(By.ID, "answer-error"))
    finally:
        rules.write_text(good, encoding="utf-8")
    wait(browser).until(lambda b: not b.find_elements(By.CSS_SELECTOR, "#problems li.problem"))
    wait(browser).until(valid_and_checked)
    assert "stale" not in (browser.find_element(By.ID, "panel-scenarios").get_attribute("class") or "")
