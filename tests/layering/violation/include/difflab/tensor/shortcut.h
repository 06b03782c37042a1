// SPDX-License-Identifier: Apache-2.0
// A tensor header that reaches up to the registry: check_layers.cmake must refuse it.
#pragma once

#include <difflab/base/error.h>
#include <difflab/plugin/registry.h>
