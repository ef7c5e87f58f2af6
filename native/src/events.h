// Domain events and the connection close callback.
//
// libvirt invokes callbacks on its event-loop thread (started in addon.cc). Each callback copies what
// it needs into an EventMsg and hands it to JS through the connection's ThreadSafeFunction, which calls
// the JS `emit(type, payload)` function given to open(). The TSFN starts unref'd (an idle connection
// must not keep the process alive); the TS layer refs it while it has listeners.
#pragma once

#include <mutex>

#include "typed_params.h"

struct EventMsg {
  std::string type;  // 'lifecycle' | 'reboot' | 'deviceAdded' | 'deviceRemoved' | 'blockJob' | ...
  std::string name, uuid;
  int a = 0, b = 0;
  std::string s;
  ParamList params;
};

// Refcounted: one reference for the connection, one per registered domain-event callback (dropped by
// libvirt's free callback). The TSFN is released with the last reference, so it can never be called
// after release.
class EventSink {
 public:
  EventSink(Napi::Env env, Napi::Function emit);
  void Ref() { refs_.fetch_add(1); }
  void Unref();
  void Post(EventMsg* msg);  // any thread
  void SetRef(Napi::Env env, bool ref);  // JS thread only

 private:
  ~EventSink() = default;
  Napi::ThreadSafeFunction tsfn_;
  std::atomic<int> refs_{1};
};

// Register all domain events + close callback on cs->conn (off the JS thread). Failures are ignored:
// drivers that don't support an event just don't deliver it.
void RegisterEvents(ConnState& cs);
// Deregister everything registered by RegisterEvents (off the JS thread).
void DeregisterEvents(ConnState& cs);
