// SPDX-License-Identifier: Apache-2.0
// Registers the metrics of the comparison harness and the feature network's training task.
#include <difflab/plugin/plugin.h>

#include "classifier_accuracy_metric.h"
#include "classifier_training_task.h"
#include "detection_metrics.h"
#include "distribution_distances.h"
#include "feature_distance_metric.h"
#include "fid_metric.h"
#include "image_quality_metrics.h"
#include "inception_score_metric.h"
#include "overlap_metrics.h"
#include "precision_recall_metric.h"

DIFFLAB_PLUGIN(metrics, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::classifier_training_task>("classifier_training");
    reg.add<difflab::plugins::fid_metric>("fid");
    reg.add<difflab::plugins::precision_recall_metric>("precision_recall");
    reg.add<difflab::plugins::classifier_accuracy_metric>("classifier_accuracy");
    reg.add<difflab::plugins::feature_distance_metric>("feature_distance");
    reg.add<difflab::plugins::inception_score_metric>("inception_score");
    reg.add<difflab::plugins::psnr_metric>("psnr");
    reg.add<difflab::plugins::ssim_metric>("ssim");
    reg.add<difflab::plugins::auroc_metric>("auroc");
    reg.add<difflab::plugins::average_precision_metric>("average_precision");
    reg.add<difflab::plugins::dice_metric>("dice");
    reg.add<difflab::plugins::iou_metric>("iou");
    reg.add<difflab::plugins::sliced_wasserstein_metric>("sliced_wasserstein");
    reg.add<difflab::plugins::mmd_metric>("mmd");
}
