"""Every command of the README's "Use" block runs as written in a clone, on the sample letters."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from search.cli import main

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[list[str]]:
    """The argument lists of the first sh block under "## Use" (comments dropped)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Use\n", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line, comments=True) for line in block.splitlines()]
    return [c for c in commands if c]


def test_readme_names_real_cases_only() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "CM13-0012345" not in text
    for command in readme_commands():
        assert command[0] == "imr-search"
        for word in command:
            if word.startswith("CM1"):
                assert (ROOT / "search" / "samples" / f"{word}.txt").is_file(), word


def test_every_readme_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import waitress

    served: list[dict[str, Any]] = []

    def fake_serve(app: Any, **kwargs: Any) -> None:
        body = app.test_client().get("/api/search").get_json()
        served.append({"total": body["total_determinations"], **kwargs})

    monkeypatch.setattr(waitress, "serve", fake_serve)
    from web import cli_serve

    monkeypatch.setattr(cli_serve, "default_workers", lambda: 1)  # serve in this process
    (tmp_path / "search").symlink_to(ROOT / "search")  # the clone's relative paths
    monkeypatch.chdir(tmp_path)
    samples = len(list((ROOT / "search" / "samples").glob("*.txt")))
    outputs: dict[str, str] = {}
    commands = readme_commands()
    assert [c[1] for c in commands] == [
        "parse", "index", "compact", "search", "show", "similar", "serve", "demo"
    ]  # fmt: skip
    for command in commands:
        code = main(command[1:])
        out = capsys.readouterr().out
        assert code == 0, command
        outputs[command[1]] = out
    parsed = [json.loads(line) for line in outputs["parse"].splitlines()]
    assert [r["case_number"] for r in parsed] == ["CM17-0013077"]
    assert f"{samples} added" in outputs["index"]
    assert "segments ->" in outputs["compact"]
    found = json.loads(outputs["search"])
    assert found["total_determinations"] >= 1
    assert all(d["outcome"] == "Overturned" for r in found["results"] for d in r["decisions"])
    assert "Case number:          CM17-0013077" in outputs["show"]
    assert "determinations like CM17-0013077" in outputs["similar"]
    assert served[0]["total"] == samples and served[0]["port"] == 8000
    assert served[1]["total"] == 500
