// Async helpers: every libvirt call runs off the JS thread and settles a promise.
//
// Short calls go to a private growable thread pool (worker.cc explains why not libuv's). Calls that
// can block for seconds or minutes (migration, managed save, snapshots, block copy/commit, volume
// clone, domain start) use QueueLong: one dedicated std::thread per call, which settles its promise
// through a per-call ThreadSafeFunction. That way getJobStats/abortJob/getState keep answering while
// a migration runs.
#pragma once

#include <functional>

#include "errors.h"

// Runs off the JS thread. Return false on failure; if `err` was not filled in, the thread's last
// libvirt error is captured automatically. Captured references are released on the worker thread.
using ExecFn = std::function<bool(ErrorInfo& err)>;
// Runs on the JS thread after a successful exec; builds the resolution value.
using DoneFn = std::function<Napi::Value(Napi::Env env)>;

void InitShortPool(Napi::Env env);  // once, at module init
Napi::Value Queue(Napi::Env env, ExecFn exec, DoneFn done);
Napi::Value QueueLong(Napi::Env env, ExecFn exec, DoneFn done);
inline Napi::Value Run(Napi::Env env, bool longCall, ExecFn exec, DoneFn done) {
  return longCall ? QueueLong(env, std::move(exec), std::move(done)) : Queue(env, std::move(exec), std::move(done));
}

// Common DoneFns.
inline DoneFn DoneUndefined() { return [](Napi::Env env) -> Napi::Value { return env.Undefined(); }; }
