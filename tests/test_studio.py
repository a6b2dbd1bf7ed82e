"""`guidekb studio`, server-level: the page and its JSON, the playground against `guidekb run`,
save as scenario (a new file, never over one, nothing else written), the live update on a save,
the defaults (127.0.0.1), Ctrl-C (exit 130) and the errors before it starts (exit 2).

The server runs in-process under Starlette's TestClient (its lifespan starts the file watcher
and the worker processes) on a copy of the default knowledge base; the command line runs in a
subprocess. The browser end to end is tests/test_studio_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the 'studio' extra is not installed: pip install 'guidekb[studio]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its TestClient; httpx works
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

import guidekb
from guidekb.studio.app import create_app
from guidekb.studio.state import PANELS, Studio
from tests.clirun import GUIDEKB
from tests.clirun import guidekb as run_guidekb
from tests.conftest import HSV_KB, ROOT

WAIT_SECONDS = 120  # generous: the machine is shared; nothing here asserts a duration


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file under `root` (relative path -> sha256 of its bytes)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def settled(client: TestClient, generation: int | None = None) -> dict[str, Any]:
    """The state once every panel is done (or blocked) for the newest generation."""
    last: list[dict[str, Any]] = []

    def ready() -> dict[str, Any] | None:
        state: dict[str, Any] = client.get("/api/state").json()
        last[:] = [state]
        if generation is not None and state["generation"] < generation:
            return None
        panels = state["panels"]
        if all(p["status"] in ("done", "blocked", "failed") for p in panels.values()) and \
                panels["validation"]["generation"] == state["generation"]:
            return state
        return None
    try:
        found: dict[str, Any] = wait_for(ready, "the studio to finish checking")
    except AssertionError:
        state = last[0]
        raise AssertionError(f"gave up waiting for the studio to finish checking: generation "
                             f"{state['generation']}, " + ", ".join(
                                 f"{n} {p['status']} (generation {p['generation']}, {p['message']})"
                                 for n, p in state["panels"].items())) from None
    return found


@contextmanager
def studio_client(root: Path) -> Iterator[TestClient]:
    app = create_app(Studio(root.resolve()), allowed_hosts=["testserver"])
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def kb_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("studio") / "hsv-resistance"
    shutil.copytree(HSV_KB, folder)
    return folder


@pytest.fixture(scope="module")
def before(kb_copy: Path) -> dict[str, str]:
    return tree_hashes(kb_copy)


@pytest.fixture(scope="module")
def client(kb_copy: Path, before: dict[str, str]) -> Iterator[TestClient]:
    with studio_client(kb_copy) as test_client:
        settled(test_client)
        yield test_client


def evaluate(client: TestClient, case: dict[str, Any]) -> Any:
    return client.post("/api/evaluate", json={"case": case})


# --- the page --------------------------------------------------------------------------------


def test_the_page_and_its_own_script_are_served_without_anything_from_elsewhere(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/static/studio.js"' in page.text
    script = client.get("/static/studio.js")
    style = client.get("/static/studio.css")
    assert script.status_code == style.status_code == 200
    assert "EventSource" in script.text
    for text in (page.text, script.text, style.text):  # offline: no CDN, no external fonts
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text)
        assert "@import" not in text
    # knowledge-base text is never put in as HTML
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    assert client.get("/static/../work.py").status_code == 404


def test_the_state_has_every_panel_checked(client: TestClient, kb_copy: Path) -> None:
    state = settled(client)
    panels = state["panels"]
    assert set(panels) == set(PANELS)
    assert all(p["status"] == "done" and not p["stale"] for p in panels.values())
    validation = panels["validation"]["data"]
    assert validation["ok"] and validation["problems"] == []
    assert validation["kb"]["id"] == "hsv-resistance"
    facts = {f["name"]: f for f in validation["facts"]}
    kb = guidekb.load(kb_copy)
    assert list(facts) == list(kb.case_facts)  # the form's vocabulary: case facts only
    assert facts["immune_status"]["values"] == ["immunocompetent", "immunocompromised"]
    assert (facts["days_on_therapy"]["min"], facts["days_on_therapy"]["max"]) == (0, 3650)
    scenarios = panels["scenarios"]["data"]["results"]
    assert len(scenarios) == len(list((kb_copy / "scenarios").glob("*.yaml")))
    assert all(r["passed"] for r in scenarios)
    proofs = panels["proofs"]["data"]
    assert [i["id"] for i in proofs["invariants"]] == [i.id for i in guidekb.load_invariants(kb)]
    assert {i["status"] for i in proofs["invariants"]} == {"proved"} and proofs["disagreements"] == 0
    lint = panels["lint"]["data"]
    assert lint["open"] == 0 and all(f["acknowledged"] for f in lint["findings"])
    coverage = panels["coverage"]["data"]
    assert coverage["counts"]["encoded"] > 0
    assert sum(coverage["counts"].values()) == coverage["total"]


def test_the_flowcharts_are_svg_images(client: TestClient) -> None:
    charts = settled(client)["panels"]["charts"]["data"]
    if not shutil.which("dot"):
        assert not charts["available"] and "graphviz" in charts["message"]
        return
    assert charts["available"] and charts["charts"][0]["title"] == "Clinical pathway overview"
    assert len(charts["charts"]) > 1  # the overview and its stage charts
    for chart in charts["charts"]:
        image = client.get(chart["url"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/svg+xml"
        assert image.text.lstrip().startswith("<?xml") and "<svg" in image.text
        assert "default-src 'none'" in image.headers["content-security-policy"]
    assert client.get("/charts/999999/0.svg").status_code == 404


def test_without_graphviz_the_flowcharts_panel_says_so(monkeypatch: pytest.MonkeyPatch, kb_copy: Path) -> None:
    from guidekb.studio import work

    monkeypatch.setenv("PATH", "")  # no `dot` to be found
    charts = work.run_safely("charts", str(kb_copy), 0)
    assert charts["available"] is False and charts["charts"] == []
    assert "graphviz" in charts["message"] and "apt-get install graphviz" in charts["message"]


def test_a_failing_task_is_a_message_never_an_exception(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       kb_copy: Path) -> None:
    from guidekb.studio import work

    def broken(root: str, generation: int) -> dict[str, Any]:
        raise ValueError("a bug")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setitem(work.TASKS, "coverage", broken)
    failed = work.run_safely("coverage", str(kb_copy), 0)
    assert failed["failed"] == "error"
    assert failed["message"].startswith("coverage failed: ValueError: a bug; details written to ")


def test_a_worker_process_is_replaced_after_recycle_after_generations(
        monkeypatch: pytest.MonkeyPatch, kb_copy: Path) -> None:
    """Each compiled knowledge base leaks memory inside durable_rules: an old worker goes."""
    import asyncio

    from guidekb.studio import lanes

    monkeypatch.setattr(lanes, "RECYCLE_AFTER", 2)
    lane = lanes.Lane("test")

    def processes() -> list[Any]:
        return list(getattr(lane._executor, "_processes", {}).values())

    async def three_generations() -> tuple[list[Any], list[Any], list[Any]]:
        await lane.run("validate", str(kb_copy), 0)
        first = processes()
        await lane.run("validate", str(kb_copy), 1)
        same = processes()
        await lane.run("validate", str(kb_copy), 2)
        return first, same, processes()

    try:
        first, same, replaced = asyncio.run(three_generations())
    finally:
        lane.close()
    assert len(first) == 1 and [p.pid for p in same] == [first[0].pid]
    assert len(replaced) == 1 and replaced[0].pid != first[0].pid
    assert not first[0].is_alive()


def test_the_event_stream_announces_the_state_version(client: TestClient) -> None:
    with client.stream("GET", "/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        seen = [next(lines) for _ in range(4)]
    assert seen[0].startswith("retry:")
    event = seen.index("event: state")
    version = json.loads(seen[event + 1].removeprefix("data: "))["version"]
    assert 0 < version <= client.get("/api/state").json()["version"]


# --- the playground --------------------------------------------------------------------------


def test_the_playground_answers_every_bundled_case_as_guidekb_run_does(
        client: TestClient, kb_copy: Path, tmp_path: Path) -> None:
    cases = sorted((kb_copy / "cases").glob("*.yaml"))
    run = run_guidekb("run", "--kb", str(kb_copy), "--format", "json", *map(str, cases), home=tmp_path)
    assert run.returncode == 0, run.stderr
    expected = json.loads(run.stdout)
    kb = guidekb.load(kb_copy)
    for path, result in zip(cases, expected, strict=True):
        case = guidekb.load_case(path, kb)
        response = evaluate(client, json.loads(json.dumps(case)))  # as the page sends it: JSON
        assert response.status_code == 200, response.text
        assert response.json()["answer"] == result["answer"], path.name


def test_an_unknown_fact_is_left_out_never_false(client: TestClient, kb_copy: Path) -> None:
    """The form's default for every fact is unknown: sent as null (or left out), never false."""
    kb = guidekb.load(kb_copy)
    nothing = evaluate(client, {}).json()["answer"]
    assert nothing["case"] == {}
    assert nothing == guidekb.evaluate(kb, {}).model_dump(mode="json")
    all_null = evaluate(client, dict.fromkeys(kb.case_facts)).json()["answer"]
    assert all_null == nothing
    # a fact given false is not the same case as the fact unknown
    given = {"current_antiviral": "valacyclovir", "days_on_therapy": 10, "lesion_course": "persistent"}
    unknown_dose = evaluate(client, given).json()["answer"]
    false_dose = evaluate(client, {**given, "dose_adequate": False}).json()["answer"]
    assert "dose_adequate" not in unknown_dose["case"] and false_dose["case"]["dose_adequate"] is False
    assert unknown_dose == guidekb.evaluate(kb, given).model_dump(mode="json")


@pytest.mark.parametrize(("case", "message"), [
    ({"days_on_therapy": "10"}, "fact 'days_on_therapy': value '10' is not allowed"),
    ({"days_on_therapy": 99999}, "fact 'days_on_therapy'"),
    ({"immune_status": "sometimes"}, "fact 'immune_status': value 'sometimes' is not allowed"),
    ({"imune_status": "immunocompromised"}, "unknown fact 'imune_status'"),
    ({"treatment_failure": True}, "treatment_failure"),
])
def test_an_invalid_case_is_a_4xx_with_the_case_error_message(
        client: TestClient, case: dict[str, Any], message: str) -> None:
    response = evaluate(client, case)
    assert response.status_code == 422
    body = response.json()
    assert message in body["error"]
    assert body["problems"] and "Traceback" not in response.text
    if "imune" in message:
        assert "did you mean 'immune_status'?" in body["error"]


@pytest.mark.parametrize(("send", "status"), [
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
    ({"json": {"facts": {}}}, 400),
    ({"json": ["a", "list"]}, 400),
    ({"content": b'{"case": {}}', "headers": {"content-type": "text/plain"}}, 415),
    ({"json": {"case": {}}, "headers": {"origin": "http://evil.example"}}, 403),
])
def test_a_request_that_is_not_from_the_page_is_refused(client: TestClient, send: dict[str, Any],
                                                       status: int) -> None:
    response = client.post("/api/evaluate", **send)
    assert response.status_code == status
    assert response.json()["error"]


def test_a_request_for_another_host_is_refused(client: TestClient) -> None:
    """DNS rebinding: a page on another name that resolves here gets nothing."""
    assert client.get("/api/state", headers={"host": "evil.example"}).status_code == 400


# --- save as scenario ------------------------------------------------------------------------

CONFIRMED = {"susceptibility_result": "acyclovir_resistant", "renal_impairment": True}


def test_save_as_scenario_writes_a_new_scenario_that_loads_and_passes(client: TestClient, kb_copy: Path) -> None:
    response = client.post("/api/scenarios", json={"case": CONFIRMED, "name": "studio-confirmed",
                                                   "description": "Confirmed resistance, renal impairment."})
    assert response.status_code == 201, response.text
    written = kb_copy / "scenarios" / "studio-confirmed.yaml"
    assert Path(response.json()["abs"]) == written.resolve()
    kb = guidekb.load(kb_copy)
    [result] = guidekb.run_scenarios(kb, [written])
    assert result.passed
    scenario = result.loaded.scenario
    assert scenario.case == CONFIRMED and scenario.description == "Confirmed resistance, renal impairment."
    answer = guidekb.evaluate(kb, CONFIRMED)
    assert scenario.expect.recommended == answer.recommended_codes()
    assert scenario.expect.forbidden == answer.forbidden_codes()
    assert scenario.expect.derived == answer.derived_facts()
    # the page sees it: the watcher reruns the scenarios with the new file
    wait_for(lambda: any(r["name"] == "studio-confirmed" for r in
                         (client.get("/api/state").json()["panels"]["scenarios"]["data"] or {"results": []})["results"]),
             "the new scenario to be run")


def test_save_as_scenario_never_overwrites(client: TestClient, kb_copy: Path) -> None:
    existing = kb_copy / "scenarios" / "empty-case.yaml"
    text = existing.read_bytes()
    response = client.post("/api/scenarios", json={"case": CONFIRMED, "name": "empty-case"})
    assert response.status_code == 409
    assert "already exists" in response.json()["error"]
    assert existing.read_bytes() == text
    (kb_copy / "scenarios" / "only-yml.yml").write_text(existing.read_text())
    try:
        assert client.post("/api/scenarios", json={"case": {}, "name": "only-yml"}).status_code == 409
        assert not (kb_copy / "scenarios" / "only-yml.yaml").exists()
    finally:
        (kb_copy / "scenarios" / "only-yml.yml").unlink()


def test_save_as_scenario_without_a_name_picks_a_fresh_one(client: TestClient, kb_copy: Path) -> None:
    first = client.post("/api/scenarios", json={"case": {"hsv_site": "genital"}})
    second = client.post("/api/scenarios", json={"case": {"hsv_site": "genital"}})
    assert first.status_code == second.status_code == 201
    names = {Path(first.json()["abs"]).name, Path(second.json()["abs"]).name}
    assert len(names) == 2 and all(n.startswith("playground-") for n in names)


@pytest.mark.parametrize("name", ["../escape", "a/b", "UPPER", ".hidden", "x" * 81, "spaces in it"])
def test_a_scenario_name_is_a_plain_file_name(client: TestClient, kb_copy: Path, name: str) -> None:
    before = tree_hashes(kb_copy.parent)
    response = client.post("/api/scenarios", json={"case": {}, "name": name})
    assert response.status_code == 400
    assert tree_hashes(kb_copy.parent) == before


def test_an_invalid_case_is_not_saved(client: TestClient, kb_copy: Path) -> None:
    response = client.post("/api/scenarios", json={"case": {"immune_status": "x"}, "name": "never-written"})
    assert response.status_code == 422
    assert not list((kb_copy / "scenarios").glob("never-written*"))


def test_nothing_but_the_saved_scenarios_was_written_into_the_knowledge_base(
        client: TestClient, kb_copy: Path, before: dict[str, str]) -> None:
    """Whatever ran before on this server (pytest-xdist may have sent the other tests of this
    file elsewhere), plus here every kind of request: only new scenario files appeared."""
    for path in ("/", "/static/studio.js", "/api/state"):
        assert client.get(path).status_code == 200
    assert evaluate(client, CONFIRMED).status_code == 200
    assert evaluate(client, {"immune_status": "x"}).status_code == 422
    assert client.post("/api/scenarios", json={"case": CONFIRMED, "name": "hash-check"}).status_code == 201
    assert client.post("/api/scenarios", json={"case": CONFIRMED, "name": "hash-check"}).status_code == 409
    settled(client)
    after = tree_hashes(kb_copy)
    changed = {name for name in before if after.get(name) != before[name]}
    added = set(after) - set(before)
    assert changed == set()
    assert "scenarios/hash-check.yaml" in added
    assert all(re.fullmatch(r"scenarios/(studio-confirmed|hash-check|playground-\d+)\.yaml", a) for a in added)


# --- a save in the author's editor -----------------------------------------------------------


def test_a_broken_rule_file_shows_its_problem_and_marks_the_rest_stale(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(HSV_KB, root)
    rules = sorted((root / "rules").glob("*.yaml"))[0]
    good = rules.read_text()
    with studio_client(root) as client:
        state = settled(client)
        assert state["panels"]["validation"]["data"]["ok"]
        rules.write_text(good.replace("then:", "then_:", 1))
        state = wait_for(lambda: (s := client.get("/api/state").json())["panels"]["validation"]["status"] == "done"
                         and not s["panels"]["validation"]["data"]["ok"] and s, "the problem to appear")
        problems = state["panels"]["validation"]["data"]["problems"]
        assert any(Path(p["abs"]) == rules.resolve() and p["line"] > 0 and p["column"] > 0 for p in problems)
        assert any("then_" in p["message"] for p in problems)
        for name in PANELS[1:]:  # never shown as current: blocked, and marked stale
            panel = state["panels"][name]
            assert panel["status"] in ("blocked", "waiting", "checking")
            assert panel["stale"] or panel["data"] is None
        blocked = settled(client)
        assert all(blocked["panels"][n]["status"] == "blocked" and blocked["panels"][n]["stale"]
                   for n in PANELS[1:])
        refused = evaluate(client, {})
        assert refused.status_code == 409 and "problems" in refused.json()["error"]
        rules.write_text(good)
        fixed = settled(client, blocked["generation"] + 1)
        assert fixed["panels"]["validation"]["data"]["ok"]
        assert all(p["status"] == "done" and not p["stale"] for p in fixed["panels"].values())
        assert evaluate(client, {}).status_code == 200


def test_without_watchfiles_the_page_says_it_does_not_follow_saves(monkeypatch: pytest.MonkeyPatch,
                                                                   kb_copy: Path) -> None:
    """Never a page that looks live but is not: checked once, and a notice says so."""
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    with studio_client(kb_copy) as client:
        state = settled(client)
    assert "cannot follow saves" in state["notice"]
    assert state["panels"]["validation"]["data"]["ok"]


# --- the command -----------------------------------------------------------------------------


def studio_env(home: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"),
            "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}


@contextmanager
def running_studio(kb: Path, home: Path, *options: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`guidekb studio --kb KB --port 0 --no-browser` in its own process group (as in a
    terminal, where Ctrl-C reaches every process of the group); yields it and its URL."""
    process = subprocess.Popen([*GUIDEKB, "studio", "--kb", str(kb), "--port", "0", "--no-browser", *options],
                               cwd=home, env=studio_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.search(r"(http://\S+/)", first)
        assert found, f"no address announced: {first!r} {process.stderr.read() if process.poll() is not None else ''}"
        yield process, found.group(1)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_command_listens_on_127_0_0_1_and_ctrl_c_exits_130(tmp_path: Path) -> None:
    with running_studio(HSV_KB, tmp_path) as (process, url):
        assert url.startswith("http://127.0.0.1:")
        import httpx

        wait_for(lambda: httpx.get(url + "api/state").json()["panels"]["validation"]["status"] == "done",
                 "the first validation")
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole group
        out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.strip() == "guidekb: interrupted"
    assert "Traceback" not in out + err


def test_the_default_address_is_127_0_0_1() -> None:
    import inspect

    from guidekb.commands.studio import studio
    from guidekb.studio import server

    assert inspect.signature(studio).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(server.serve).parameters["host"].default == "127.0.0.1"


def test_a_knowledge_base_that_does_not_exist_exits_2(tmp_path: Path) -> None:
    result = run_guidekb("studio", "--kb", str(tmp_path / "nowhere"), "--no-browser", home=tmp_path)
    assert result.returncode == 2
    assert "knowledge-base folder not found" in result.stderr and "Traceback" not in result.stderr


def test_a_port_in_use_exits_2(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_guidekb("studio", "--kb", str(HSV_KB), "--port", str(port), "--no-browser", home=tmp_path)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def test_without_the_studio_extra_it_says_how_to_install_it(tmp_path: Path) -> None:
    """Starlette made unimportable (as where the extra is not installed)."""
    code = ("import sys; sys.modules['starlette'] = None; sys.argv = ['guidekb', 'studio', '--no-browser', "
            f"'--kb', {str(HSV_KB)!r}]; from guidekb.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env=studio_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "pip install 'guidekb[studio]'" in result.stderr and "Traceback" not in result.stderr


def test_save_as_scenario_never_writes_into_an_installed_knowledge_base(tmp_path: Path) -> None:
    """`guidekb studio` with no --kb outside any knowledge base opens the default one, which in
    a pip installation is package data in site-packages: a scenario saved there would change
    every user's copy and vanish at the next upgrade. Refused (409), nothing written."""
    installed = tmp_path / "lib" / "python3.11" / "site-packages" / "guidekb" / "knowledge" / "hsv"
    shutil.copytree(HSV_KB, installed)
    before = tree_hashes(installed)
    client = TestClient(create_app(Studio(installed.resolve()), allowed_hosts=["testserver"]))
    response = client.post("/api/scenarios", json={"case": CONFIRMED, "name": "mine"})
    assert response.status_code == 409
    assert "guidekb init" in response.json()["error"]
    assert tree_hashes(installed) == before
