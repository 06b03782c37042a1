// SPDX-License-Identifier: Apache-2.0
// Registers the data sets: Fashion-MNIST and its moving garments, CIFAR-10, digits, PNG folders, 2-D toys.
#include <difflab/plugin/plugin.h>

#include "cifar10_dataset.h"
#include "digits_dataset.h"
#include "fashion_mnist_dataset.h"
#include "image_folder_dataset.h"
#include "moving_fashion_mnist_dataset.h"
#include "toy2d_dataset.h"

DIFFLAB_PLUGIN(datasets, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::fashion_mnist_dataset>("fashion_mnist");
    reg.add<difflab::plugins::moving_fashion_mnist_dataset>("moving_fashion_mnist");
    reg.add<difflab::plugins::cifar10_dataset>("cifar10");
    reg.add<difflab::plugins::digits_dataset>("digits");
    reg.add<difflab::plugins::image_folder_dataset>("image_folder");
    reg.add<difflab::plugins::toy2d_dataset>("toy2d");
}
