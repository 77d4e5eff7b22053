#pragma once
/// Errors as values: every fallible engine call returns Result<T>.

#include <exception>
#include <string>
#include <utility>
#include <variant>

namespace fl::core {

/// A failure a user can act on: one line saying what went wrong and what to do.
struct Error {
    std::string message;
};

/// Builds an Error; `return fl::core::fail("model file truncated: ...");` converts to any Result<T>.
inline Error fail(std::string message) { return Error{std::move(message)}; }

/// An exception caught at a module edge as an Error: `context` + its first line (Torch appends a C++ stack
/// trace after the first line, which a user cannot act on).
inline Error fail_from(const std::string& context, const std::exception& e) {
    std::string what = e.what();
    if (const auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    return fail(context + what);
}

/// Either a value or an Error. Never throws on inspection; value() on an error is a programming bug.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<1>(v_); }
    const std::string& message() const { return error().message; }

private:
    std::variant<T, Error> v_;
};

/// Result of a call that returns nothing on success.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }
    const std::string& message() const { return error_.message; }

private:
    Error error_;
    bool ok_ = true;
};

/// Success value for Result<void>.
inline Result<void> ok() { return {}; }

}  // namespace fl::core

/// Propagates an error from an expression returning Result<...>; evaluates to nothing.
#define FL_TRY(expr)                                              \
    do {                                                          \
        auto&& fl_try_result_ = (expr);                           \
        if (!fl_try_result_.ok()) return fl_try_result_.error();  \
    } while (0)
