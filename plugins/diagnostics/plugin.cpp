// SPDX-License-Identifier: Apache-2.0
// Registers the diagnostics plugin: checks that an installation works end to end.
#include <difflab/plugin/plugin.h>

#include "environment_task.h"

DIFFLAB_PLUGIN(diagnostics, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::environment_task>("environment");
}
