#pragma once
/// Runs the built `frameloom` command line as a user would, capturing exit status, stdout and stderr.

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fl::test {

/// What one run of the command line gave back.
struct CliRun {
    int status = -1;
    std::string out;  ///< stdout
    std::string err;  ///< stderr
};

/// Runs `build/bin/frameloom ARGS` through the shell (ARGS is shell text: quote prompts).
inline CliRun run_frameloom(const std::string& args) {
    static int counter = 0;
    const std::filesystem::path err_file =
        std::filesystem::temp_directory_path() /
        ("fl-cli-err-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    const std::string cmd = std::string(FL_BIN_DIR) + "/frameloom " + args + " 2>" + err_file.string();
    CliRun r;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    std::array<char, 4096> buf;
    while (size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) r.out.append(buf.data(), n);
    r.status = WEXITSTATUS(::pclose(pipe));
    std::ifstream in(err_file);
    r.err.assign(std::istreambuf_iterator<char>(in), {});
    std::error_code ec;
    std::filesystem::remove(err_file, ec);
    return r;
}

}  // namespace fl::test
