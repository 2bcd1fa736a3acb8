"""sentiment-app: IMDB review sentiment, the SageMaker way, running whole on one machine."""

import os

# Before anything imports torch: idle OpenMP threads sleep instead of spinning. The LSTM runs many
# tiny kernels, and on a busy machine spinning threads stall each one (measured: 46 s instead of
# 3 s per training batch with one other busy process on 2 cores). A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
