#include "events.h"

namespace {

void FillDomain(EventMsg* m, virDomainPtr dom) {
  // Both are local lookups on the already-fetched object: no RPC on libvirt's event thread.
  const char* n = virDomainGetName(dom);
  m->name = n ? n : "";
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  if (virDomainGetUUIDString(dom, uuid) == 0) m->uuid = uuid;
}

EventMsg* NewMsg(const char* type, virDomainPtr dom) {
  auto* m = new EventMsg();
  m->type = type;
  FillDomain(m, dom);
  return m;
}

int OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  EventMsg* m = NewMsg("lifecycle", dom);
  m->a = event;
  m->b = detail;
  static_cast<EventSink*>(opaque)->Post(m);
  return 0;
}

void OnReboot(virConnectPtr, virDomainPtr dom, void* opaque) {
  static_cast<EventSink*>(opaque)->Post(NewMsg("reboot", dom));
}

void OnDeviceAdded(virConnectPtr, virDomainPtr dom, const char* alias, void* opaque) {
  EventMsg* m = NewMsg("deviceAdded", dom);
  m->s = alias ? alias : "";
  static_cast<EventSink*>(opaque)->Post(m);
}

void OnDeviceRemoved(virConnectPtr, virDomainPtr dom, const char* alias, void* opaque) {
  EventMsg* m = NewMsg("deviceRemoved", dom);
  m->s = alias ? alias : "";
  static_cast<EventSink*>(opaque)->Post(m);
}

void OnBlockJob2(virConnectPtr, virDomainPtr dom, const char* dst, int type, int status, void* opaque) {
  EventMsg* m = NewMsg("blockJob", dom);
  m->s = dst ? dst : "";
  m->a = type;
  m->b = status;
  static_cast<EventSink*>(opaque)->Post(m);
}

void OnJobCompleted(virConnectPtr, virDomainPtr dom, virTypedParameterPtr params, int n, void* opaque) {
  EventMsg* m = NewMsg("jobCompleted", dom);
  m->params = CopyParams(params, n);  // libvirt frees `params` after we return
  static_cast<EventSink*>(opaque)->Post(m);
}

void OnMigrationIteration(virConnectPtr, virDomainPtr dom, int iteration, void* opaque) {
  EventMsg* m = NewMsg("migrationIteration", dom);
  m->a = iteration;
  static_cast<EventSink*>(opaque)->Post(m);
}

void OnClose(virConnectPtr, int reason, void* opaque) {
  auto* m = new EventMsg();
  m->type = "close";
  m->a = reason;
  static_cast<EventSink*>(opaque)->Post(m);
}

void FreeSinkRef(void* opaque) { static_cast<EventSink*>(opaque)->Unref(); }

void CallJs(Napi::Env env, Napi::Function emit, EventMsg* m) {
  std::unique_ptr<EventMsg> msg(m);
  if (env == nullptr || emit.IsEmpty()) return;  // environment tearing down
  Napi::Object p = Napi::Object::New(env);
  if (m->type != "close") {
    p.Set("name", m->name);
    p.Set("uuid", m->uuid);
  }
  if (m->type == "lifecycle") {
    p.Set("event", m->a);
    p.Set("detail", m->b);
  } else if (m->type == "deviceAdded" || m->type == "deviceRemoved") {
    p.Set("alias", m->s);
  } else if (m->type == "blockJob") {
    p.Set("disk", m->s);
    p.Set("type", m->a);
    p.Set("status", m->b);
  } else if (m->type == "jobCompleted") {
    p.Set("stats", ParamsToJS(env, m->params));
  } else if (m->type == "migrationIteration") {
    p.Set("iteration", m->a);
  } else if (m->type == "close") {
    p.Set("reason", m->a);
  }
  try {
    emit.Call({Napi::String::New(env, m->type), p});
  } catch (const Napi::Error& e) {
    // A throwing listener: let Node report it as an uncaught exception, like any event emitter.
    e.ThrowAsJavaScriptException();
  }
}

}  // namespace

EventSink::EventSink(Napi::Env env, Napi::Function emit) {
  tsfn_ = Napi::ThreadSafeFunction::New(env, emit, "novalet:libvirt-events", 0, 1);
  tsfn_.Unref(env);
}

void EventSink::Unref() {
  if (refs_.fetch_sub(1) == 1) {
    tsfn_.Release();
    delete this;
  }
}

void EventSink::Post(EventMsg* msg) {
  auto cb = [](Napi::Env env, Napi::Function fn, EventMsg* m) { CallJs(env, fn, m); };
  if (tsfn_.NonBlockingCall(msg, cb) != napi_ok) delete msg;
}

void EventSink::SetRef(Napi::Env env, bool ref) {
  if (ref) tsfn_.Ref(env); else tsfn_.Unref(env);
}

void RegisterEvents(ConnState& cs) {
  struct Reg { int id; virConnectDomainEventGenericCallback cb; };
  const Reg regs[] = {
      {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(OnLifecycle)},
      {VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(OnReboot)},
      {VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(OnDeviceAdded)},
      {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(OnDeviceRemoved)},
      {VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, VIR_DOMAIN_EVENT_CALLBACK(OnBlockJob2)},
      {VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(OnJobCompleted)},
      {VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, VIR_DOMAIN_EVENT_CALLBACK(OnMigrationIteration)},
  };
  for (const Reg& r : regs) {
    cs.sink->Ref();
    int id = virConnectDomainEventRegisterAny(cs.conn, nullptr, r.id, r.cb, cs.sink, FreeSinkRef);
    if (id < 0) {
      cs.sink->Unref();
      virResetLastError();
    } else {
      cs.eventIds.push_back(id);
    }
  }
  // No free callback: drivers without close-callback support accept the call and never store it, so
  // a refcount taken here might never be dropped. Unregistering (under libvirt's lock) is enough.
  if (virConnectRegisterCloseCallback(cs.conn, OnClose, cs.sink, nullptr) == 0) {
    cs.closeCbRegistered = true;
  } else {
    virResetLastError();
  }
}

void DeregisterEvents(ConnState& cs) {
  for (int id : cs.eventIds) {
    if (virConnectDomainEventDeregisterAny(cs.conn, id) < 0) virResetLastError();
  }
  cs.eventIds.clear();
  if (cs.closeCbRegistered) {
    if (virConnectUnregisterCloseCallback(cs.conn, OnClose) < 0) virResetLastError();
    cs.closeCbRegistered = false;
  }
}
