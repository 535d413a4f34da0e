"""README's two commands stay true: CI runs the README's test command verbatim."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands(readme: str) -> dict[str, str]:
    found = {}
    for label in ("setup", "test"):
        m = re.search(rf"<!-- {label}-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
        assert m, f"README.md has no marked {label} command"
        found[label] = m.group(1).strip()
    return found


def test_ci_runs_the_readme_test_command():
    cmds = _commands((ROOT / "README.md").read_text(encoding="utf-8"))
    ci_lines = [l.strip() for l in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert cmds["test"] in ci_lines


def test_setup_command_installs_pinned_torch_and_runs_the_app():
    cmds = _commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "torch==2.13.0" in cmds["setup"] and "python3 -m app" in cmds["setup"]
