// SPDX-License-Identifier: Apache-2.0
// Tests of the argmax accuracy that classifier_accuracy and the classifier training report.
#include "classifier_accuracy_metric.h"

#include <difflab/base/error.h>
#include <doctest/doctest.h>

using namespace difflab;
using namespace difflab::plugins;

TEST_CASE("classification accuracy counts rows whose argmax is the label, the first of ties winning") {
    const tensor logits = tensor::from_vector({4, 3}, {
                                                          0.1f, 2.0f, -1.0f,  // argmax 1
                                                          5.0f, 4.0f, 3.0f,   // argmax 0
                                                          1.0f, 1.0f, 0.0f,   // tie: 0
                                                          0.0f, 0.0f, 0.5f,   // argmax 2
                                                      });
    CHECK(correct_classifications(logits, tensor::from_vector({4}, {1, 0, 0, 2})) == 4);
    CHECK(correct_classifications(logits, tensor::from_vector({4}, {1, 1, 1, 2})) == 2);
    CHECK(classification_accuracy(logits, tensor::from_vector({4}, {0, 0, 1, 1})) == doctest::Approx(0.25));
}

TEST_CASE("labels outside the classes and mismatched shapes are errors") {
    const tensor logits = tensor::zeros({2, 3});
    CHECK_THROWS_AS(correct_classifications(logits, tensor::from_vector({2}, {0, 3})), difflab::error);
    CHECK_THROWS_AS(correct_classifications(logits, tensor::from_vector({2}, {0, 1.5f})), difflab::error);
    CHECK_THROWS_AS(correct_classifications(logits, tensor::from_vector({2}, {0, -1})), difflab::error);
    CHECK_THROWS_AS(correct_classifications(logits, tensor::from_vector({3}, {0, 1, 2})), difflab::error);
    CHECK_THROWS_AS(correct_classifications(logits, tensor()), difflab::error);
}
