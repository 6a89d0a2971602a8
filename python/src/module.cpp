// backprop._backprop: the native half of the Python package `backprop` (python/backprop/).
#include <pybind11/pybind11.h>

#include "backprop/error.hpp"
#include "backprop/trainer.hpp"
#include "model_binding.hpp"

PYBIND11_MODULE(_backprop, m) {
  namespace py = pybind11;
  m.doc() = "backprop's C++ library: models, prediction and training on numpy arrays";
  m.attr("__version__") = BACKPROP_VERSION;
  // Translators are tried newest first: a divergence before any other library error.
  static py::exception<backprop::Error> error(m, "BackpropError", PyExc_ValueError);
  static py::exception<backprop::DivergenceError> divergence(m, "DivergenceError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const backprop::DivergenceError& e) {
      divergence(e.what());
    } catch (const backprop::Error& e) {
      error(e.what());
    }
  });
  backprop::python::bind_model(m);
  backprop::python::bind_training(m);
}
