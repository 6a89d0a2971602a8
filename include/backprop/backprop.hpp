#pragma once
// The whole public API in one include:
//   #include <backprop/backprop.hpp>
// and link backprop::backprop (CMake: find_package(backprop CONFIG)) or
// `pkg-config --static --cflags --libs backprop`. Compile as C++20.
//
//   data         Dataset, classification_dataset / regression_dataset, read_idx, read_csv_dataset,
//                Preprocessing, split_validation
//   network      Architecture, Network (forward, forward_backward), gradient_check
//   training     TrainOptions, OptimizerConfig, Schedule, Trainer, train_model, evaluate
//   model files  save_model, load_model, save_checkpoint, load_checkpoint, read/write_safetensors
// Errors are backprop::Error (DivergenceError when training diverges).
#include "backprop/architecture.hpp"
#include "backprop/checkpoint.hpp"
#include "backprop/csv.hpp"
#include "backprop/dataset.hpp"
#include "backprop/error.hpp"
#include "backprop/evaluate.hpp"
#include "backprop/gradcheck.hpp"
#include "backprop/health.hpp"
#include "backprop/idx.hpp"
#include "backprop/layer_stats.hpp"
#include "backprop/matrix.hpp"
#include "backprop/model.hpp"
#include "backprop/network.hpp"
#include "backprop/optimizer.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/report.hpp"
#include "backprop/safetensors.hpp"
#include "backprop/schedule.hpp"
#include "backprop/thread_pool.hpp"
#include "backprop/trainer.hpp"
#include "backprop/validation_split.hpp"
