#include "frameloom/inference/process.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>

namespace fl::inference {

void prepare_process(int argc, char** argv) {
    (void)argc;
    if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("FRAMELOOM_NO_REEXEC") == nullptr) {
        ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        ::setenv("FRAMELOOM_NO_REEXEC", "1", 1);  // never loop, even if the variable is dropped
        ::execv("/proc/self/exe", argv);
        // execv only returns on failure: carry on with the defaults.
    }
    // Keep large tensors' memory in the heap between ops instead of mapping and unmapping it each time.
    ::mallopt(M_MMAP_THRESHOLD, 1 << 30);
    ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
    ::mallopt(M_TOP_PAD, 128 << 20);
}

}  // namespace fl::inference
