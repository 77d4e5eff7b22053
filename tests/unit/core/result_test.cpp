// Errors as values: an exception caught at a module edge becomes one actionable line.
#include <gtest/gtest.h>

#include <stdexcept>

#include "frameloom/core/result.h"

namespace fl::core {
namespace {

Result<int> throws(const char* what) {
    try {
        throw std::runtime_error(what);
    } catch (const std::exception& e) {
        return fail_from("loading failed: ", e);
    }
}

TEST(FailFrom, KeepsTheContextAndOnlyTheFirstLine) {
    // Torch appends a stack trace after the first line; a user sees only the line they can act on.
    const auto r = throws("shape mismatch [2, 3] vs [3]\nException raised from check at foo.cpp:12\nframe #0");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message(), "loading failed: shape mismatch [2, 3] vs [3]");
    EXPECT_EQ(throws("one line").message(), "loading failed: one line");
}

}  // namespace
}  // namespace fl::core
