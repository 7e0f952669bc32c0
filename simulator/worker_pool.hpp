// A fixed set of threads that split a range of work items, for the CPU
// backend's per-publish batches. The calling thread takes the first share.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace brt {

class WorkerPool {
  public:
    explicit WorkerPool(unsigned threads);  // 0: every core
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    unsigned thread_count() const { return static_cast<unsigned>(workers_.size()) + 1; }
    // Calls work(begin, end) on contiguous shares of [0, items) in parallel
    // and returns when all are done.
    void parallel_for(std::uint64_t items,
                      const std::function<void(std::uint64_t, std::uint64_t)>& work);

  private:
    void worker_loop(unsigned index);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable start_;
    std::condition_variable done_;
    const std::function<void(std::uint64_t, std::uint64_t)>* work_ = nullptr;
    std::uint64_t items_ = 0;
    std::uint64_t generation_ = 0;
    unsigned pending_ = 0;
    bool stopping_ = false;
};

}  // namespace brt
