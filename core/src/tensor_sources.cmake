# SPDX-License-Identifier: Apache-2.0
# Sources of the tensor engine (DESIGN.md §7), kept apart from the registry/configuration core.
target_sources(difflab_core PRIVATE)
