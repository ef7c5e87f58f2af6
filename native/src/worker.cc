#include "worker.h"

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

class FnWorker : public Napi::AsyncWorker {
 public:
  FnWorker(Napi::Env env, ExecFn exec, DoneFn done)
      : Napi::AsyncWorker(env, "novalet:libvirt"),
        deferred_(Napi::Promise::Deferred::New(env)),
        exec_(std::move(exec)),
        done_(std::move(done)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { RunExec(exec_, ok_, err_); }
  void OnOK() override { Settle(Env(), deferred_, ok_, err_, done_); }

 private:
  Napi::Promise::Deferred deferred_;
  ExecFn exec_;
  DoneFn done_;
  bool ok_ = false;
  ErrorInfo err_;
};

struct LongCall {
  Napi::Promise::Deferred deferred;
  ExecFn exec;
  DoneFn done;
  bool ok = false;
  ErrorInfo err;
  Napi::ThreadSafeFunction tsfn;
};

}  // namespace

Napi::Value Queue(Napi::Env env, ExecFn exec, DoneFn done) {
  auto* w = new FnWorker(env, std::move(exec), std::move(done));
  Napi::Promise p = w->Promise();
  w->Queue();  // AsyncWorker deletes itself after OnOK
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
