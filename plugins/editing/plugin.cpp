// SPDX-License-Identifier: Apache-2.0
// Registers the editing tasks: inpainting (replacement, RePaint) and SDEdit.
#include <difflab/plugin/plugin.h>

#include "inpainting_task.h"
#include "sdedit_task.h"

DIFFLAB_PLUGIN(editing, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::inpainting_task>("inpainting");
    reg.add<difflab::plugins::sdedit_task>("sdedit");
}
