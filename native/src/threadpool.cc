// Thread pool implementation (see threadpool.h); its JavaScript exports getThreads(), setThreads(n) are in
// threadpool_napi.cc.
#include "threadpool.h"

#include <algorithm>
#include <atomic>
#include <type_traits>

#ifndef EBM_NO_THREADS
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace ebm {

#ifdef EBM_NO_THREADS

int pool_threads() { return 1; }
void set_pool_threads(int) {}
void parallel_run(int parts, void (*fn)(void*, int), void* ctx) {
  for (int p = 0; p < parts; p++) fn(ctx, p);
}

#else

namespace {

thread_local bool tl_in_part = false;

/** Spin iterations an idle worker polls for the next job before sleeping (≈ 0.1–0.3 ms): consecutive
 *  kernel calls separated by a little JavaScript then start without a futex wake-up. */
constexpr int kSpin = 4000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

class Pool {
 public:
  ~Pool() { stop_workers(); }

  int threads() const { return threads_.load(); }

  void set_threads(int n) {
    n = std::clamp(n, 1, 256);
    std::lock_guard<std::mutex> run(run_mutex_);  // never resize while a job runs
    if (n == threads_.load()) return;
    stop_workers();
    threads_.store(n);
  }

  void run(int parts, void (*fn)(void*, int), void* ctx) {
    if (parts <= 0) return;
    int nt = std::min(threads_.load(), parts);
    std::unique_lock<std::mutex> run(run_mutex_, std::defer_lock);
    if (nt <= 1 || tl_in_part || !run.try_lock()) {
      serial(parts, fn, ctx);
      return;
    }
    ensure_workers(threads_.load() - 1);
    {
      std::lock_guard<std::mutex> lk(m_);
      fn_.store(fn);
      ctx_.store(ctx);
      parts_.store(parts);
      next_.store(0);  // last: a worker that sees a part index < parts_ sees this job's fn_ and ctx_
      done_ = 0;
      active_ = nt - 1;  // workers allowed to join this job
      generation_++;
    }
    cv_.notify_all();
    int mine = work();
    std::unique_lock<std::mutex> lk(m_);
    done_ += mine;
    done_cv_.wait(lk, [&] { return done_ == parts_.load(); });
  }

 private:
  static void serial(int parts, void (*fn)(void*, int), void* ctx) {
    bool was = tl_in_part;
    tl_in_part = true;
    for (int p = 0; p < parts; p++) fn(ctx, p);
    tl_in_part = was;
  }

  /** Takes parts from the shared counter until none are left; returns how many it ran. */
  int work() {
    bool was = tl_in_part;
    tl_in_part = true;
    int count = 0;
    for (;;) {
      int p = next_.fetch_add(1);
      if (p >= parts_.load()) break;
      fn_.load()(ctx_.load(), p);
      count++;
    }
    tl_in_part = was;
    return count;
  }

  /** `seen`: the job generation current when the worker was created (so it joins the job that follows). */
  void worker_main(unsigned long seen) {
    for (;;) {
      for (int i = 0; i < kSpin && generation_.load() == seen && !stop_.load(); i++) cpu_relax();
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_ || (generation_ != seen && active_ > 0); });
        if (stop_) return;
        seen = generation_;
        active_--;
      }
      int mine = work();
      {
        std::lock_guard<std::mutex> lk(m_);
        done_ += mine;
        if (done_ == parts_.load()) done_cv_.notify_one();
      }
    }
  }

  void ensure_workers(int n) {
    if (static_cast<int>(workers_.size()) >= n) return;
    std::lock_guard<std::mutex> lk(m_);
    stop_ = false;
    const unsigned long gen = generation_.load();
    while (static_cast<int>(workers_.size()) < n) workers_.emplace_back([this, gen] { worker_main(gen); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    std::lock_guard<std::mutex> lk(m_);
    stop_ = false;
  }

  std::atomic<int> threads_{1};
  std::mutex run_mutex_;  // one job at a time
  std::mutex m_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stop_{false};  // written under m_
  std::atomic<unsigned long> generation_{0};  // written under m_
  int active_ = 0;
  // Written under m_ by the caller, read lock-free by workers (a worker that woke late may look at the
  // next job: it then runs that job's parts and counts them there, which is correct).
  std::atomic<void (*)(void*, int)> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<int> parts_{0};
  std::atomic<int> next_{1 << 30};
  int done_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool();  // leaked on purpose: no join at exit while Node tears down
  return *p;
}

}  // namespace

int pool_threads() { return pool().threads(); }
void set_pool_threads(int n) { pool().set_threads(n); }
void parallel_run(int parts, void (*fn)(void*, int), void* ctx) { pool().run(parts, fn, ctx); }

#endif

}  // namespace ebm
