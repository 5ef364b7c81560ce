"""`furet-index` under cron: the README's crontab run as written, and summary lines that say
when each run ended once they go to a log file."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

from indexer.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
STAMPED = re.compile(r"added \d+, updated \d+, unchanged \d+, deleted \d+, rejected \d+ in "
                     r"\d+\.\d s at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")


def _section(text: str, heading: str) -> str:
    return re.split(r"\n#{2,3} ", text.split(heading + "\n", 1)[1], maxsplit=1)[0]


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_the_summary_line_ends_with_the_time_off_a_terminal(runner, articles, tmp_path):
    result = runner.invoke(main, ["build", str(articles), "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 0, result.output
    assert STAMPED.fullmatch(result.stdout.strip()), result.stdout


def test_the_summary_line_is_plain_on_a_terminal(articles, tmp_path):
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "indexer.cli", "build", str(articles), "--index-dir",
             str(tmp_path / "ix")], stdout=follower, stderr=subprocess.DEVNULL, cwd=ROOT,
            timeout=120)
        shown = os.read(leader, 4096).decode()
    finally:
        os.close(leader)
        os.close(follower)
    assert done.returncode == 0
    assert re.fullmatch(r"added 4, updated 0, unchanged 0, deleted 0, rejected 0 in \d+\.\d s",
                        shown.strip()), shown


def test_the_readme_crontab_runs_as_written(tmp_path):
    """The README's set-up line and crontab lines, with its example folders moved under
    tmp_path (and no sudo): each run leaves one stamped line in its log."""
    section = _section((ROOT / "README.md").read_text("utf-8"), "### Cron")
    setup, = _blocks(section, "sh")
    crontab, = _blocks(section, "cron")
    home, articles, logs = tmp_path / "srv-furet", tmp_path / "articles", tmp_path / "log"
    home.mkdir()
    (home / ".venv").symlink_to(Path(sys.executable).parent.parent, target_is_directory=True)
    shutil.copytree(DATA / "articles", articles)

    def moved(command: str) -> str:
        for example, here in (("/srv/furet", home), ("/srv/articles", articles),
                              ("/var/log/furet", logs)):
            command = command.replace(example, str(here))
        return command.replace("sudo ", "")

    first = setup.splitlines()[0].split("#")[0]
    subprocess.run(["sh", "-c", moved(first)], check=True, timeout=30)
    assert logs.is_dir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURET_")}
    lines = [line for line in crontab.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 2
    for line in lines:
        command = line.split(None, 5)[5]  # after minute, hour, day, month, weekday
        done = subprocess.run(["sh", "-c", moved(command)], env=env, timeout=300)
        assert done.returncode == 0
    for name in ("update.log", "build.log"):
        logged = (logs / name).read_text("utf-8").strip()
        assert STAMPED.fullmatch(logged), (name, logged)
    assert (home / "index" / "CURRENT").exists()


def test_the_packaged_crontab_runs_the_readme_commands():
    section = _section((ROOT / "README.md").read_text("utf-8"), "### Cron")
    readme = [line.split(None, 5)[5] for line in _blocks(section, "cron")[0].splitlines()
              if line and not line.startswith("#")]
    packaged = [line.split(None, 6)[6]  # /etc/cron.d lines name the user after the time
                for line in (ROOT / "deploy" / "furet.cron").read_text("utf-8").splitlines()
                if line and not line.startswith("#")]
    assert packaged == readme
