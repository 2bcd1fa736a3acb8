"""What starting the command line costs: ``sentiment-app --help`` in a fresh interpreter imports neither
torch, scikit-learn nor boto3 (seconds each). (The layering read from the source:
``tests/unit/test_layout.py``.)"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "sklearn", "boto3")

# The console script's own path: the click group run as `sentiment-app --help`, then what it loaded.
PROBE = """
import json, sys
from sentiment_app.cli import main
try:
    main(["--help"], prog_name="sentiment-app")
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted({name.split(".")[0] for name in sys.modules})}))
"""


def test_help_imports_no_heavy_library() -> None:
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    *help_text, last = run.stdout.strip().splitlines()
    loaded = json.loads(last)
    assert loaded["code"] == 0 and "Usage: sentiment-app" in "\n".join(help_text)
    assert {"click", "sentiment_app"} <= set(loaded["modules"])  # the probe saw the command line load
    assert not set(HEAVY) & set(loaded["modules"]), sorted(set(HEAVY) & set(loaded["modules"]))
