// SPDX-License-Identifier: Apache-2.0
// A tensor source that reaches up to the run layer: check_layers.cmake must refuse it.
#include <difflab/run/task.h>
#include <difflab/tensor/shortcut.h>
