// SPDX-License-Identifier: Apache-2.0
// Registers the data sets: Fashion-MNIST, CIFAR-10, folders of PNG images and 2-D toy shapes.
#include <difflab/plugin/plugin.h>

#include "cifar10_dataset.h"
#include "digits_dataset.h"
#include "fashion_mnist_dataset.h"
#include "image_folder_dataset.h"
#include "toy2d_dataset.h"

DIFFLAB_PLUGIN(datasets, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::fashion_mnist_dataset>("fashion_mnist");
    reg.add<difflab::plugins::cifar10_dataset>("cifar10");
    reg.add<difflab::plugins::digits_dataset>("digits");
    reg.add<difflab::plugins::image_folder_dataset>("image_folder");
    reg.add<difflab::plugins::toy2d_dataset>("toy2d");
}
