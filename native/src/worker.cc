#include "worker.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace {

// Settles `deferred` on the JS thread; `done` may throw a Napi::Error (e.g. a failed conversion).
void Settle(Napi::Env env, Napi::Promise::Deferred& deferred, bool ok, const ErrorInfo& err,
            const DoneFn& done) {
  if (!ok) {
    deferred.Reject(err.ToJS(env).Value());
    return;
  }
  try {
    deferred.Resolve(done(env));
  } catch (const Napi::Error& e) {
    deferred.Reject(e.Value());
  }
}

void RunExec(ExecFn& exec, bool& ok, ErrorInfo& err) {
  try {
    ok = exec(err);
  } catch (const std::exception& e) {
    ok = false;
    err = ErrorInfo::Make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, e.what());
  }
  if (!ok && !err.set) err = ErrorInfo::CaptureLast();
  // Drop the captured libvirt references here, on the worker thread: if one of them is the last
  // reference to a closed remote connection, its teardown RPC must not run on the JS thread.
  exec = nullptr;
}

}  // namespace

// A private, growable pool for short calls. libuv's pool is not used: a libvirt call can block
// indefinitely (observed: a hung daemon leaves calling threads stuck until its socket wakes), and a
// stuck libuv thread would stall Node's own fs/dns/crypto work and block process.exit(), which joins
// libuv's threads. Our threads are detached and the pool grows up to kMaxThreads when all are busy.
constexpr size_t kMaxThreads = 64;

struct ShortCall {
  Napi::Promise::Deferred deferred;
  ExecFn exec;
  DoneFn done;
  bool ok = false;
  ErrorInfo err;
};

class ShortPool {
 public:
  explicit ShortPool(Napi::Env env) {
    tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                          "novalet:libvirt-pool", 0, 1);
    tsfn_.Unref(env);  // ref'd only while calls are pending (see Submit/Finish)
  }

  // JS thread.
  void Submit(Napi::Env env, ShortCall* call) {
    if (pending_++ == 0) tsfn_.Ref(env);  // a pending promise keeps the process alive
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(call);
    if (idle_ == 0 && threads_ < kMaxThreads) {
      threads_++;
      std::thread([this]() { Loop(); }).detach();
    } else {
      cv_.notify_one();
    }
  }

 private:
  void Loop() {
    for (;;) {
      ShortCall* call;
      {
        std::unique_lock<std::mutex> lock(mu_);
        idle_++;
        cv_.wait(lock, [this]() { return !queue_.empty(); });
        idle_--;
        call = queue_.front();
        queue_.pop_front();
      }
      RunExec(call->exec, call->ok, call->err);
      napi_status st = tsfn_.BlockingCall(call, [this](Napi::Env env, Napi::Function, ShortCall* c) {
        Settle(env, c->deferred, c->ok, c->err, c->done);
        delete c;
        if (--pending_ == 0) tsfn_.Unref(env);
      });
      if (st != napi_ok) return;  // environment torn down: leave the job, stop this thread
    }
  }

  Napi::ThreadSafeFunction tsfn_;
  size_t pending_ = 0;  // JS thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ShortCall*> queue_;
  size_t threads_ = 0;
  size_t idle_ = 0;
};

namespace {
struct LongCall {
  Napi::Promise::Deferred deferred;
  ExecFn exec;
  DoneFn done;
  bool ok = false;
  ErrorInfo err;
  Napi::ThreadSafeFunction tsfn;
};

}  // namespace

void InitShortPool(Napi::Env env) {
  // One pool per env (main thread or worker_threads). Never freed: its detached threads may still be
  // blocked in libvirt when the env goes away.
  Data(env)->pool = new ShortPool(env);
}

Napi::Value Queue(Napi::Env env, ExecFn exec, DoneFn done) {
  auto* call = new ShortCall{Napi::Promise::Deferred::New(env), std::move(exec), std::move(done), false, {}};
  Napi::Promise p = call->deferred.Promise();
  Data(env)->pool->Submit(env, call);
  return p;
}

Napi::Value QueueLong(Napi::Env env, ExecFn exec, DoneFn done) {
  auto* lc = new LongCall{Napi::Promise::Deferred::New(env), std::move(exec), std::move(done), false, {}, {}};
  Napi::Promise p = lc->deferred.Promise();
  // The TSFN keeps the event loop alive while the call is pending (a pending promise should), and is
  // released by the thread once it has handed back its result.
  lc->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                           "novalet:libvirt-long", 0, 1);
  std::thread([lc]() {
    RunExec(lc->exec, lc->ok, lc->err);
    Napi::ThreadSafeFunction tsfn = lc->tsfn;  // copy: lc is deleted by the JS-side callback
    napi_status st = tsfn.BlockingCall(lc, [](Napi::Env env, Napi::Function, LongCall* c) {
      Settle(env, c->deferred, c->ok, c->err, c->done);
      delete c;
    });
    if (st != napi_ok) {
      // Environment is shutting down; nothing can observe the promise any more.
    }
    tsfn.Release();
  }).detach();
  return p;
}
