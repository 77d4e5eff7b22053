#pragma once
/// Helpers shared by the core edit tests: the project's invariants checked, an edit driven through an undo
/// stack (do → undo → redo) and an edit that must fail without changing anything.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "frameloom/core/edit.h"
#include "frameloom/core/project.h"

/// The project's invariants hold (reported at the caller's line).
#define EXPECT_VALID(p)                           \
    do {                                          \
        const auto inv_ = (p).check_invariants(); \
        EXPECT_TRUE(inv_.ok()) << inv_.message(); \
    } while (0)

namespace fl::core::test {

/// do → check → undo → check (== before) → redo → check (== after the do). Returns the stack's text
/// (empty when the edit failed).
inline std::string exercise(Project& p, std::unique_ptr<Command> cmd) {
    UndoStack stack;
    const Project before = p;
    const auto r = stack.push(p, std::move(cmd));
    EXPECT_TRUE(r.ok()) << r.message();
    if (!r.ok()) return {};
    EXPECT_VALID(p);
    EXPECT_FALSE(p == before) << "the edit changed nothing";
    const Project after = p;
    EXPECT_TRUE(stack.can_undo());
    const std::string text = stack.undo_text();
    stack.undo(p);
    EXPECT_VALID(p);
    EXPECT_EQ(p, before) << "undo did not restore the project exactly";
    EXPECT_EQ(stack.redo_text(), text);
    const auto rr = stack.redo(p);
    EXPECT_TRUE(rr.ok()) << rr.message();
    EXPECT_VALID(p);
    EXPECT_EQ(p, after) << "redo did not reproduce the edit";
    return text;
}

/// The edit must fail with a message containing `needle` and change nothing (history included).
inline void expect_fails(Project& p, std::unique_ptr<Command> cmd, const std::string& needle) {
    UndoStack stack;
    const Project before = p;
    const auto r = stack.push(p, std::move(cmd));
    ASSERT_FALSE(r.ok()) << "expected failure mentioning " << needle;
    EXPECT_NE(r.message().find(needle), std::string::npos) << r.message();
    EXPECT_EQ(p, before) << "a failed edit changed the project";
    EXPECT_FALSE(stack.can_undo());
}

}  // namespace fl::core::test
