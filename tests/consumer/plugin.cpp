// SPDX-License-Identifier: Apache-2.0
// Registers the consumer_demo plugin's components.
#include <difflab/plugin/plugin.h>

#include "greeting_task.h"

DIFFLAB_PLUGIN(consumer_demo, "0.1.0", reg) {
    reg.add<consumer_demo::greeting_task>("greeting");
}
