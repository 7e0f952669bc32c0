#pragma once

namespace brt {

// The same meaning for every tool; docs/operations-facing text lives in README.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeFailure = 1;
inline constexpr int kExitUsage = 2;

}  // namespace brt
