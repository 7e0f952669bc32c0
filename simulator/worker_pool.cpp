#include "simulator/worker_pool.hpp"

#include <algorithm>

namespace brt {

namespace {

std::pair<std::uint64_t, std::uint64_t> share(std::uint64_t items, unsigned index, unsigned count) {
    return {items * index / count, items * (index + 1) / count};
}

}  // namespace

WorkerPool::WorkerPool(unsigned threads) {
    if (threads == 0) {
        threads = std::max(1u, std::thread::hardware_concurrency());
    }
    for (unsigned i = 1; i < threads; ++i) {
        workers_.emplace_back([this, i] { worker_loop(i); });
    }
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    start_.notify_all();
    for (auto& worker : workers_) {
        worker.join();
    }
}

void WorkerPool::parallel_for(std::uint64_t items,
                              const std::function<void(std::uint64_t, std::uint64_t)>& work) {
    const unsigned count = thread_count();
    if (count == 1 || items < 2) {
        work(0, items);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        work_ = &work;
        items_ = items;
        pending_ = count - 1;
        ++generation_;
    }
    start_.notify_all();
    const auto [begin, end] = share(items, 0, count);
    work(begin, end);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    work_ = nullptr;
}

void WorkerPool::worker_loop(unsigned index) {
    std::uint64_t seen_generation = 0;
    for (;;) {
        const std::function<void(std::uint64_t, std::uint64_t)>* work = nullptr;
        std::uint64_t items = 0;
        {
            std::unique_lock lock(mutex_);
            start_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
            if (stopping_) {
                return;
            }
            seen_generation = generation_;
            work = work_;
            items = items_;
        }
        const auto [begin, end] = share(items, index, thread_count());
        if (begin < end) {
            (*work)(begin, end);
        }
        {
            std::lock_guard lock(mutex_);
            --pending_;
        }
        done_.notify_one();
    }
}

}  // namespace brt
