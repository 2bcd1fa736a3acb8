"""The model registry across processes: two ``sentiment-app models register`` commands writing at once."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from sentiment_app.artifacts.locate import bundled_model_dir
from tests.support import CLI

FOLDERS_PER_PROCESS = 6


def test_two_cli_processes_registering_at_once_lose_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    batches = [[Path(shutil.copytree(bundled_model_dir("lstm-seed"), tmp_path / f"job-{writer}-{n}"))
                for n in range(FOLDERS_PER_PROCESS)] for writer in "ab"]
    writers = [subprocess.Popen([CLI, "models", "register", "--home", str(home), *map(str, batch)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for batch in batches]
    outputs = [writer.communicate(timeout=120) for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], outputs
    listed = subprocess.run([CLI, "models", "versions", "--json", "--home", str(home)],
                            capture_output=True, text=True, check=True)
    found = json.loads(listed.stdout)
    assert sorted(v["version"] for v in found) == list(range(1, 2 * FOLDERS_PER_PROCESS + 1))
    assert sorted(v["model_dir"] for v in found) == sorted(str(p.resolve()) for batch in batches for p in batch)
    assert {v["status"] for v in found} == {"PendingManualApproval"}
    again = subprocess.run([CLI, "models", "register", "--home", str(home), str(batches[0][0])],
                           capture_output=True, text=True, check=True)
    assert again.stdout.startswith("Version ") and len(json.loads(subprocess.run(
        [CLI, "models", "versions", "--json", "--home", str(home)], capture_output=True, text=True,
        check=True).stdout)) == 2 * FOLDERS_PER_PROCESS


def test_registering_a_folder_that_is_no_model_says_why(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    result = subprocess.run([CLI, "models", "register", "--home", str(tmp_path / "home"), str(empty)],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "manifest.json is missing or not JSON" in result.stderr
    assert not (tmp_path / "home" / "registry" / "registry.json").exists()
