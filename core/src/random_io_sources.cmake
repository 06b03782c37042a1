# SPDX-License-Identifier: Apache-2.0
# Sources of counter-based randomness (Philox) and checkpoint files (safetensors).
target_sources(difflab_core PRIVATE)
