// Through the umbrella header only: makes a data set (points of the plane, labelled by whether
// they lie inside the unit circle), trains a 2-16-2 tanh network on it, and saves the model file
// that `backprop info`, `eval` and `predict` read. Exits 0 when it learned the circle.
//   train_and_save [model.safetensors]
#include <backprop/backprop.hpp>

#include <cstdio>
#include <random>

int main(int argc, char** argv) {
  using namespace backprop;
  try {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> coordinate(-2.0f, 2.0f);
    std::vector<float> points;
    std::vector<std::int32_t> inside;
    for (int i = 0; i < 2000; ++i) {
      const float x = coordinate(rng), y = coordinate(rng);
      points.insert(points.end(), {x, y});
      inside.push_back(x * x + y * y < 1.0f ? 1 : 0);
    }
    const Dataset data = classification_dataset(points, 2, inside, {"outside", "inside"});

    TrainOptions options;
    options.epochs = 40;
    options.batch = 32;
    options.optimizer.kind = OptimizerKind::adam;
    options.schedule.base_lr = 0.01f;
    const Model model =
        train_model(data, {.widths = {2, 16, 2}, .activations = {Activation::tanh}}, options);
    save_model(argc > 1 ? argv[1] : "model.safetensors", *model.network, model.info);

    ThreadPool pool(1);
    const Evaluation result = evaluate(*model.network, data, model.info.preprocessing, {}, pool);
    std::printf("training accuracy %.4f, loss %.4f\n", result.accuracy, result.loss);
    return result.accuracy > 0.95 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "train_and_save: %s\n", e.what());
    return 1;
  }
}
