# SPDX-License-Identifier: Apache-2.0
# Sources of the tensor engine (DESIGN.md §7), kept apart from the registry/configuration core.
# While issue 3 is built in parallel: tensor, autograd, ops.h (pointwise, reductions, losses),
# modules and optimizers go in the first list; oneDNN layers (nn_ops.h) in the second.
# src/tensor/dnnl_context.cpp joins once tensor.cpp defines what it uses.
target_sources(difflab_core PRIVATE)
target_sources(difflab_core PRIVATE)
