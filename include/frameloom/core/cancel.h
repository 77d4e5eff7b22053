#pragma once
/// Progress and cancellation callbacks carried by a request (never global).

#include <functional>
#include <string>

namespace fl::core {

/// Reports progress: `done` of `total` units, with a short label ("step 3/20", "encoding").
using ProgressFn = std::function<void(int64_t done, int64_t total, const std::string& label)>;

/// Returns true when the caller wants the work to stop as soon as possible.
using CancelFn = std::function<bool()>;

/// Message used by every cancelled operation, so callers can recognise it.
inline constexpr const char* kCancelledMessage = "cancelled by the user";

/// True when `message` is the cancellation message.
inline bool is_cancelled_message(const std::string& message) { return message == kCancelledMessage; }

}  // namespace fl::core
