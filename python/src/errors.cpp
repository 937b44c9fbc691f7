// mpe::Error becomes the Python exception class registered for its code (mpengine/errors.py
// defines the hierarchy and hands it over with _set_error_classes); the message is kept whole.
#include <array>
#include <string>

#include <nanobind/stl/string.h>

#include <mpe/error.hpp>

#include "bindings.hpp"

namespace mpe::py {
namespace {

constexpr int kCodes = static_cast<int>(ErrorCode::internal) + 1;
// Borrowed from mpengine.errors, which lives as long as the interpreter.
std::array<PyObject*, kCodes> g_classes{};
PyObject* g_base = nullptr;

void set_error_classes(nb::dict classes) {
  for (int c = 0; c < kCodes; ++c) {
    const char* name = error_code_name(static_cast<ErrorCode>(c));
    if (!classes.contains(name)) {
      throw nb::value_error((std::string("no exception class for error code ") + name).c_str());
    }
    nb::object cls = classes[name];
    g_classes[static_cast<std::size_t>(c)] = cls.inc_ref().ptr();
  }
  g_base = nb::object(classes["__base__"]).inc_ref().ptr();
}

}  // namespace

void bind_errors(nb::module_& m) {
  m.def("_set_error_classes", &set_error_classes,
        "Registers the Python class raised for each mpe::ErrorCode name (and '__base__').");
  m.def("_error_code_names", [] {
    nb::list names;
    for (int c = 0; c < kCodes; ++c) names.append(error_code_name(static_cast<ErrorCode>(c)));
    return names;
  }, "The names of mpe::ErrorCode, in order.");
  m.def("_raise_error", [](const std::string& code, const std::string& message) {
    for (int c = 0; c < kCodes; ++c) {
      if (code == error_code_name(static_cast<ErrorCode>(c))) {
        throw Error(static_cast<ErrorCode>(c), message);
      }
    }
    throw nb::value_error(("unknown error code " + code).c_str());
  }, "Throws mpe::Error(code, message) from C++ (to test the translation).");
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const Error& e) {
      PyObject* cls = g_classes[static_cast<std::size_t>(e.code())];
      PyErr_SetString(cls ? cls : PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace mpe::py
