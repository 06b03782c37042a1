// SPDX-License-Identifier: Apache-2.0
// Registers the time-conditioned MLP for low-dimensional data.
#include <difflab/plugin/plugin.h>

#include "mlp.h"

DIFFLAB_PLUGIN(mlp, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::mlp>("mlp");
}
