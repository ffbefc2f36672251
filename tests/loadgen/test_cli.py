"""CLI behaviour that needs no traffic: listing, clear errors, admin token resolution."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from demo_app.loadgen.__main__ import main
from demo_app.loadgen.docs import (
    DOCS_FILE,
    MEASURED,
    SKELETON,
    TABLE,
    read_section,
    replace_section,
    scenario_table,
)
from demo_app.loadgen.runner import AppClient, LoadgenError
from demo_app.loadgen.scenarios import load_scenarios
from demo_app.loadgen.settings import read_dotenv, resolve_admin_token
from harness import free_port
from harness.fake_openai import fake_openai_server
from harness.procs import start_rag_api


def test_list_prints_every_scenario_with_its_description(capsys: pytest.CaptureFixture) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for s in load_scenarios().scenarios.values():
        assert s.name in out and s.description in out


def test_unknown_scenario_lists_valid_names(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "no-such-thing"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'no-such-thing'" in err
    for name in load_scenarios().names():
        assert name in err


@pytest.mark.parametrize("argv", [["run"], ["run", ""]])
def test_missing_scenario_lists_valid_names(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "name a scenario" in err
    for name in load_scenarios().names():
        assert name in err


def test_stack_not_up_gives_a_clear_message(capsys: pytest.CaptureFixture) -> None:
    host = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["run", "steady", "--host", host, "--duration", "5"]) == 2
    err = capsys.readouterr().err
    assert f"rag-api is not reachable at {host}/readyz" in err
    assert "make up" in err


def test_bad_api_keys_are_named_before_any_traffic(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("API_KEYS", "demo-free-key:free,key-secret-part:gold")
    host = f"http://127.0.0.1:{free_port()}"  # never reached
    assert main(["run", "steady", "--host", host, "--duration", "5"]) == 2
    err = capsys.readouterr().err
    assert "error: API_KEYS: entry 2" in err and "secret" not in err
    assert "Traceback" not in err and "not reachable" not in err


@pytest.mark.parametrize("flag", ["--rate", "--duration"])
@pytest.mark.parametrize("bad", ["0", "-3", "fast", "inf", "nan"])
def test_bad_rate_is_rejected(flag: str, bad: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "steady", flag, bad])
    assert exc.value.code == 2
    assert flag in capsys.readouterr().err


def test_a_rate_no_generator_can_pace_is_rejected(capsys: pytest.CaptureFixture) -> None:
    """The scenario file's bound holds for --rate too: 5000 per second sent nothing and
    reported a clean run."""
    with pytest.raises(SystemExit) as exc:
        main(["run", "steady", "--rate", "5000"])
    assert exc.value.code == 2
    assert "must be at most 1000 per second" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["http://127.0.0.1:80OO", "127.0.0.1:8000", "ftp://127.0.0.1"])
def test_a_malformed_host_is_named_without_a_traceback(
    host: str, capsys: pytest.CaptureFixture
) -> None:
    # A URL without http(s):// is a typo, not a stack that is down ("Is the stack up?").
    assert main(["run", "steady", "--host", host, "--duration", "5"]) == 2
    err = capsys.readouterr().err
    assert f"--host {host!r} is not a valid URL" in err and "Traceback" not in err, err
    assert "not reachable" not in err and "make up" not in err, err


def test_a_host_with_a_path_is_named_not_called_unready(tmp_path: Path) -> None:
    # `--host http://app:8000/v1`: /v1/readyz is a 404, not an app still starting up.
    match = r"no rag-api at .*/v1 \(.*HTTP 404\): --host is"
    with start_rag_api(tmp_path) as app, pytest.raises(LoadgenError, match=match):
        AppClient(f"{app.url}/v1", None).check_up()


# --- --scenarios PATH: a scenario file of one's own ----------------------------------------------
OWN = """\
version: 1
mix: {stream: 0, questions: {corpus: 1}, tiers: {pro: 1}, features: {chat: 1},
      models: {gpt-4o-mini: 1}}
scenarios:
  my-incident:
    description: My own incident.
    rate: 2
    phases: [{name: fault, duration: 10, faults: {error_rate: 0.5}}]
    expect: {raise: [LLMErrorRatioHigh], forbid: [LLMCostSpike]}
"""


def test_list_reads_the_scenario_file_given(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text(OWN)
    assert main(["list", "--scenarios", str(own)]) == 0
    out = capsys.readouterr().out
    assert f"Scenarios ({own}):" in out and "my-incident  My own incident." in out
    assert "steady" not in out
    assert f"run <name> --scenarios {own}" in out


@pytest.mark.parametrize("command", [["list"], ["run", "my-incident"]])
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "cannot read the scenario file: No such file or directory"),
        (OWN.replace("rate: 2", "rate: 2\n    [a]: 1"), ":8: the key [a] is a list"),
        (OWN.replace("gpt-4o-mini", "''"), ":3: mix: models: entries must be names of"),
    ],
)
def test_a_bad_scenario_file_is_named_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, command: list[str], text: str | None, reason: str
) -> None:
    own = tmp_path / "mine.yaml"
    if text is not None:
        own.write_text(text)
    assert main([*command, "--scenarios", str(own)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {own}") and reason in err, err
    assert "Traceback" not in err


STEADY_OWN = """\
version: 1
mix: {stream: 0.5, questions: {corpus: 1}, tiers: {pro: 1}, features: {chat: 1},
      models: {MODEL: 1}}
scenarios:
  my-load:
    description: Steady load on my own model.
    rate: 4
    phases: [{name: steady, duration: 2}]
    expect: {raise: [], forbid: ["*"]}
"""


def _own(tmp_path: Path, model: str) -> Path:
    own = tmp_path / "mine.yaml"
    own.write_text(STEADY_OWN.replace("MODEL", model))
    return own


def test_a_model_the_app_does_not_serve_is_named_before_any_traffic(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    own = _own(tmp_path, "gpt-5")
    with start_rag_api(tmp_path) as app:
        assert main(["run", "my-load", "--scenarios", str(own), "--host", app.url]) == 2
        chats = httpx.get(f"{app.url}/metrics").text.count('http_route="/v1/chat')
    captured = capsys.readouterr()
    prefix = f"error: {own}:3: scenario 'my-load': mix: models: rag-api at {app.url} does not "
    assert captured.err.startswith(prefix + "serve 'gpt-5' (it serves: "), captured.err
    assert "gpt-4o-mini" in captured.err and "Traceback" not in captured.err
    assert captured.out == "" and chats == 0  # refused before the plan is printed or sent


def test_a_real_provider_model_runs_and_a_catalog_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # A stack on a real provider serves OPENAI_MODEL, not the simulated catalog: the mix is
    # checked against what the running app publishes, so a file of one's own can name it.
    with fake_openai_server() as fake:
        env = {"LLM_PROVIDER": "openai_compatible", "OPENAI_BASE_URL": fake.url}
        with start_rag_api(tmp_path, {**env, "OPENAI_MODEL": "acme-chat-1"}) as app:
            run = ["run", "my-load", "--host", app.url, "--driver", "builtin", "--seed", "1"]
            assert main([*run, "--scenarios", str(_own(tmp_path, "acme-chat-1"))]) == 0
            assert main([*run, "--scenarios", str(_own(tmp_path, "gpt-4o-mini"))]) == 2
    err = capsys.readouterr().err
    assert "does not serve 'gpt-4o-mini' (it serves: acme-chat-1;" in err, err
    chat = [body for path, _, body in fake.requests if path.endswith("/chat/completions")]
    assert chat and {body["model"] for body in chat} == {"acme-chat-1"}


def test_a_host_that_is_not_rag_api_is_named() -> None:
    # --host pointing at another HTTP server: no OpenAPI document with the model enum.
    match = r"cannot read the chat models rag-api serves from .*/openapi.json \(HTTPStatusError"
    with fake_openai_server() as fake, pytest.raises(LoadgenError, match=match):
        AppClient(fake.url.removesuffix("/v1"), None).chat_models()


def test_run_names_the_valid_scenarios_of_the_file_given(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text(OWN)
    assert main(["run", "steady", "--scenarios", str(own)]) == 2
    assert "unknown scenario 'steady'; valid scenarios: my-incident" in capsys.readouterr().err


def test_admin_token_precedence(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# demo\nexport OTHER=x\nADMIN_TOKEN='from-dotenv'\n")
    assert read_dotenv(dotenv) == {"OTHER": "x", "ADMIN_TOKEN": "from-dotenv"}
    assert resolve_admin_token("cli", {"ADMIN_TOKEN": "env"}, (dotenv,)) == "cli"
    assert resolve_admin_token(None, {"ADMIN_TOKEN": "env"}, (dotenv,)) == "env"
    assert resolve_admin_token(None, {}, (dotenv,)) == "from-dotenv"
    assert resolve_admin_token(None, {}, (tmp_path / "missing",)) is None


def test_fault_scenarios_need_the_admin_api(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real rag-api without ADMIN_TOKEN: no token → clear error; a token → 404 explained."""
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setattr("demo_app.loadgen.settings.REPO_ROOT", tmp_path)
    with start_rag_api(tmp_path, env={"ADMIN_TOKEN": ""}) as app:
        assert main(["run", "error-burst", "--host", app.url]) == 2
        err = capsys.readouterr().err
        assert "ADMIN_TOKEN" in err and "error-burst" in err

        with pytest.raises(LoadgenError, match="admin endpoints are off"):
            AppClient(app.url, "some-token").set_faults({"error_rate": 0.5})


def test_wrong_admin_token_is_explained(tmp_path: Path) -> None:
    with start_rag_api(tmp_path, env={"ADMIN_TOKEN": "right"}) as app:
        with pytest.raises(LoadgenError, match="admin token was rejected"):
            AppClient(app.url, "wrong").set_faults({})
        client = AppClient(app.url, "right")
        assert client.set_faults({"error_rate": 0.25})["error_rate"] == 0.25
        assert client.clear_faults()["error_rate"] == 0.0


# --- docs/scenarios.md ----------------------------------------------------------------------------
def test_docs_scenario_table_is_current() -> None:
    text = DOCS_FILE.read_text()
    assert read_section(text, TABLE) == scenario_table(load_scenarios()), (
        "docs/scenarios.md is stale: run `python -m demo_app.loadgen docs`"
    )


def test_docs_sections_round_trip() -> None:
    text = replace_section(SKELETON, TABLE, "| a |")
    text = replace_section(text, MEASURED, "numbers")
    assert read_section(text, TABLE) == "| a |"
    assert read_section(text, MEASURED) == "numbers"
    with pytest.raises(ValueError):
        replace_section("no markers", TABLE, "x")
