// SPDX-License-Identifier: Apache-2.0
// Registers the generation task (unconditional and class-conditional, with guidance).
#include <difflab/plugin/plugin.h>

#include "generation_task.h"

DIFFLAB_PLUGIN(generation, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::generation_task>("generation");
}
