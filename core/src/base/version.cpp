// SPDX-License-Identifier: Apache-2.0
// The core's own build fingerprint, compared with each plugin's.
#include <difflab/base/version.h>

namespace difflab {

const char* core_build_fingerprint() {
    return DIFFLAB_BUILD_FINGERPRINT;
}

}  // namespace difflab
