// Checkpoint files: a round trip through save/load restores the trainer exactly, and hostile
// training state is refused with a message instead of crashing the reader.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>

#include "backprop/checkpoint.hpp"
#include "backprop/safetensors.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using testing_support::error_of;
namespace fs = std::filesystem;

struct Fixture {
  Dataset data;
  std::vector<std::int64_t> rows;
  ModelInfo info;
  Fixture() {
    data.rows = 40;
    data.features = 3;
    for (std::int64_t i = 0; i < data.rows; ++i) {
      for (int j = 0; j < 3; ++j)
        data.values.push_back(static_cast<float>((i * 7 + j * 3) % 11) / 11.0f);
      data.labels.push_back(static_cast<std::int32_t>(i % 2));
    }
    data.class_names = {"a", "b"};
    data.source = "generated";
    rows.resize(40);
    std::iota(rows.begin(), rows.end(), 0);
    info.architecture = {{3, 5, 2}, {Activation::tanh}, Loss::cross_entropy};
    info.preprocessing = Preprocessing::identity(3);
    info.class_names = data.class_names;
  }
};

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() /
         ("backprop-checkpoint-" + std::to_string(::getpid()) + "-" + name);
}

TEST(Checkpoint, ResumingGivesTheSameWeightsAsOneRun) {
  Fixture f;
  TrainOptions options;
  options.epochs = 4;
  options.batch = 8;
  options.optimizer.kind = OptimizerKind::adam;
  options.schedule.base_lr = 0.01f;
  ThreadPool pool(1);
  Network straight(f.info.architecture, options.batch);
  straight.initialize(3);
  Trainer one(straight, f.info.preprocessing, options, f.data, f.rows, pool);
  ASSERT_EQ(one.run(), TrainOutcome::completed);

  Network first(f.info.architecture, options.batch);
  first.initialize(3);
  Trainer part(first, f.info.preprocessing, options, f.data, f.rows, pool);
  std::atomic<bool> stop{false};
  part.stop_requested = &stop;
  part.on_step = [&](std::int64_t step, std::int64_t) {
    stop = stop || (part.state().epoch == 1 && step == 2);
  };
  ASSERT_EQ(part.run(), TrainOutcome::interrupted);
  const fs::path path = temp_file("resume.safetensors");
  save_checkpoint(path, first, f.info, part, "{}");

  const Checkpoint c = load_checkpoint(path, options.batch);
  fs::remove(path);
  EXPECT_TRUE(c.state.history.empty()) << "the history is the metrics file's, not the checkpoint's";
  Network second(f.info.architecture, options.batch);
  copy_parameters(second, *c.model.network);
  Trainer rest(second, f.info.preprocessing, options, f.data, f.rows, pool);
  restore_trainer(rest, c);
  EXPECT_EQ(rest.state().epoch, 1);
  EXPECT_EQ(rest.state().step_in_epoch, 2);
  ASSERT_EQ(rest.run(), TrainOutcome::completed);
  ASSERT_EQ(straight.parameters().size(), second.parameters().size());
  EXPECT_EQ(0, std::memcmp(straight.parameters().data(), second.parameters().data(),
                           straight.parameters().size() * sizeof(float)));
  // The resumed trainer's history starts with the epoch it resumed in.
  ASSERT_EQ(rest.state().history.size(), 3u);
  EXPECT_EQ(rest.state().history.front().epoch, 2);
}

// A run of `epochs` epochs (batch 8) on the fixture's data, trained to its end.
struct TrainedRun {
  Fixture f;
  ThreadPool pool{1};
  Network net{f.info.architecture, 8};
  std::unique_ptr<Trainer> trainer;
  explicit TrainedRun(std::int64_t epochs) {
    TrainOptions options;
    options.epochs = epochs;
    options.batch = 8;
    net.initialize(1);
    trainer = std::make_unique<Trainer>(net, f.info.preprocessing, options, f.data, f.rows, pool);
    trainer->run();
  }
};

// A real checkpoint, rewritten with one metadata value replaced.
void rewrite_metadata(const fs::path& path, const std::string& key, const std::string& value) {
  SafetensorsFile file = read_safetensors(path);
  std::vector<TensorRef> refs;
  for (const auto& t : file.tensors) refs.push_back({t.name, t.shape, t.data});
  file.metadata[key] = value;
  write_safetensors(path, refs, file.metadata);
}

// Written every epoch, a checkpoint must cost the same each time: it holds the state of the
// run, not its history. Between epoch 2 and epoch 40 only counters gain digits.
TEST(Checkpoint, SizeDoesNotGrowWithTheEpochCount) {
  Fixture f;
  TrainOptions options;
  options.epochs = 40;
  options.batch = 8;
  options.optimizer.kind = OptimizerKind::momentum;
  ThreadPool pool(1);
  Network net(f.info.architecture, options.batch);
  net.initialize(2);
  Trainer trainer(net, f.info.preprocessing, options, f.data, f.rows, pool);
  const fs::path path = temp_file("size.safetensors");
  std::vector<std::uintmax_t> sizes;
  trainer.on_epoch = [&](const EpochMetrics& m) {
    if (m.epoch != 2 && m.epoch != 40) return;
    save_checkpoint(path, net, f.info, trainer, "{}");
    sizes.push_back(fs::file_size(path));
  };
  ASSERT_EQ(trainer.run(), TrainOutcome::completed);
  fs::remove(path);
  ASSERT_EQ(trainer.state().history.size(), 40u);
  ASSERT_FALSE(trainer.state().history.back().layers.empty()) << "layer statistics recorded";
  ASSERT_EQ(sizes.size(), 2u);
  // "epoch":2 -> 40 and "optimizer_steps":10 -> 200: two more digits (the header's padding to a
  // multiple of 8 bytes may add up to 7).
  EXPECT_LE(sizes[1] - sizes[0], 9u)
      << sizes[0] << " bytes after 2 epochs, " << sizes[1] << " after 40";
  EXPECT_GE(sizes[1], sizes[0]);
}

// Checkpoints of earlier versions hold every epoch's metrics under "history": they still load
// and resume, and the history is not taken from them.
TEST(Checkpoint, OneWithAHistoryStillLoads) {
  TrainedRun run(2);
  const fs::path path = temp_file("history.safetensors");
  save_checkpoint(path, run.net, run.f.info, *run.trainer, "{}");
  nlohmann::json state = nlohmann::json::parse(read_safetensors(path).metadata.at("checkpoint"));
  EXPECT_FALSE(state.contains("history"));
  state["history"] = nlohmann::json::array();
  for (const auto& m : run.trainer->state().history)
    state["history"].push_back(nlohmann::json::parse(to_json(m)));
  rewrite_metadata(path, "checkpoint", state.dump());
  const Checkpoint c = load_checkpoint(path, 1);
  fs::remove(path);
  EXPECT_EQ(c.state.epoch, 2);
  EXPECT_EQ(c.optimizer_steps, run.trainer->optimizer().steps());
  EXPECT_TRUE(c.state.history.empty());
}

TEST(Checkpoint, DeeplyNestedTrainingStateIsRefused) {
  TrainedRun run(1);
  Network& net = run.net;
  const ModelInfo& info = run.f.info;
  const Trainer& trainer = *run.trainer;
  const fs::path path = temp_file("deep.safetensors");
  save_checkpoint(path, net, info, trainer, R"({"data":"x"})");
  EXPECT_NO_THROW(load_checkpoint(path, 1));

  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  for (const std::string key : {"checkpoint", "run"}) {
    save_checkpoint(path, net, info, trainer, R"({"data":"x"})");
    if (key == "checkpoint") {
      rewrite_metadata(path, key, R"({"epoch":1,"history":[)" + deep + "]}");
    } else {
      rewrite_metadata(path, key, deep);
    }
    const std::string message = error_of([&] { load_checkpoint(path, 1); });
    EXPECT_NE(message.find("nests deeper"), std::string::npos) << key << ": " << message;
    EXPECT_NE(message.find("'" + key + "'"), std::string::npos) << message;
  }
  fs::remove(path);
}

}  // namespace
}  // namespace backprop
