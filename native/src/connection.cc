#include "connection.h"

namespace {

// Open options read on the JS thread.
struct OpenOpts {
  std::string uri;
  bool hasUri = false;
  bool readonly = false;
  int keepaliveInterval = 5;
  unsigned int keepaliveCount = 3;
};

// Wrap a single owned domain, or reject-style null when the pointer is missing.
DoneFn DoneDomain(std::shared_ptr<virDomainPtr> out, ConnStatePtr cs) {
  return [out, cs](Napi::Env env) -> Napi::Value {
    virDomainPtr d = *out;
    *out = nullptr;
    return WrapDomain(env, d, cs);
  };
}

}  // namespace

Napi::Function Connection::Init(Napi::Env env) {
  return DefineClass(env, "Connection", {
      InstanceMethod("close", &Connection::Close),
      InstanceMethod("isClosed", &Connection::IsClosed),
      InstanceMethod("setEventsRef", &Connection::SetEventsRef),
      InstanceMethod("isAlive", &Connection::IsAlive),
      InstanceMethod("listAllDomains", &Connection::ListAllDomains),
      InstanceMethod("lookupDomainByName", &Connection::LookupDomainByName),
      InstanceMethod("lookupDomainByUUID", &Connection::LookupDomainByUUID),
      InstanceMethod("lookupDomainByID", &Connection::LookupDomainByID),
      InstanceMethod("defineDomain", &Connection::DefineDomain),
      InstanceMethod("createDomain", &Connection::CreateDomain),
      InstanceMethod("getHostname", &Connection::GetHostname),
      InstanceMethod("getVersion", &Connection::GetVersion),
      InstanceMethod("getLibVersion", &Connection::GetLibVersion),
      InstanceMethod("getURI", &Connection::GetURI),
      InstanceMethod("getCapabilities", &Connection::GetCapabilities),
      InstanceMethod("getNodeInfo", &Connection::GetNodeInfo),
      InstanceMethod("getFreeMemory", &Connection::GetFreeMemory),
      InstanceMethod("getNodeCPUStats", &Connection::GetNodeCPUStats),
      InstanceMethod("getNodeMemoryStats", &Connection::GetNodeMemoryStats),
      InstanceMethod("getAllDomainStats", &Connection::GetAllDomainStats),
      InstanceMethod("listAllStoragePools", &Connection::ListAllStoragePools),
      InstanceMethod("lookupStoragePoolByName", &Connection::LookupStoragePoolByName),
      InstanceMethod("lookupStorageVolByPath", &Connection::LookupStorageVolByPath),
      InstanceMethod("defineStoragePool", &Connection::DefineStoragePool),
      InstanceMethod("createStoragePool", &Connection::CreateStoragePool),
      InstanceMethod("setSecret", &Connection::SetSecret),
      InstanceMethod("undefineSecret", &Connection::UndefineSecret),
  });
}

Connection::Connection(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Connection>(info) {}

Connection::~Connection() {
  // Garbage-collected without close(): tear down off the JS thread (deregistration and the final
  // virConnectClose are RPCs on remote connections).
  if (g_envTearingDown || !cs_ || cs_->closed.exchange(true)) return;
  ConnStatePtr cs = cs_;
  FreeOffThread([cs]() {
    DeregisterEvents(*cs);
    virConnectClose(cs->conn);
    cs->conn = nullptr;
    EventSink* sink = cs->sink;
    cs->sink = nullptr;
    if (sink) sink->Unref();
  });
}

Napi::Value Connection::WithConn(const Napi::CallbackInfo& info, bool longCall, ConnExec exec, DoneFn done) {
  Napi::Env env = info.Env();
  if (!cs_ || cs_->closed) return Rejected(env, ErrorInfo::Closed());
  ConnRef ref = RefOf(cs_->conn);
  return Run(env, longCall, [ref, exec](ErrorInfo& err) { return exec(ref.get(), err); }, std::move(done));
}

Napi::Value OpenConnection(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto opts = std::make_shared<OpenOpts>();
  opts->hasUri = ArgOptString(info, 0, opts->uri);
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    if (o.Has("readonly")) opts->readonly = o.Get("readonly").ToBoolean().Value();
    if (o.Get("keepaliveInterval").IsNumber()) opts->keepaliveInterval = o.Get("keepaliveInterval").As<Napi::Number>().Int32Value();
    if (o.Get("keepaliveCount").IsNumber()) opts->keepaliveCount = o.Get("keepaliveCount").As<Napi::Number>().Uint32Value();
  }
  if (info.Length() < 3 || !info[2].IsFunction()) throw Napi::TypeError::New(env, "emit callback required");

  auto cs = std::make_shared<ConnState>();
  // The sink (and its TSFN) is created here on the JS thread so the worker can register callbacks.
  cs->sink = new EventSink(env, info[2].As<Napi::Function>());
  auto keepalive = std::make_shared<int>(-1);

  return Queue(env,
      [cs, opts, keepalive](ErrorInfo& err) {
        const char* uri = opts->hasUri ? opts->uri.c_str() : nullptr;
        cs->conn = opts->readonly ? virConnectOpenReadOnly(uri) : virConnectOpen(uri);
        if (!cs->conn) {
          err = ErrorInfo::CaptureLast();
          EventSink* sink = cs->sink;
          cs->sink = nullptr;
          sink->Unref();  // thread-safe: releases the TSFN so a failed open leaves nothing behind
          cs->closed = true;
          return false;
        }
        if (opts->keepaliveInterval > 0) {
          // Only remote drivers support keepalive; local drivers (test://) report "unsupported".
          *keepalive = virConnectSetKeepAlive(cs->conn, opts->keepaliveInterval, opts->keepaliveCount);
          if (*keepalive < 0) virResetLastError();
        }
        RegisterEvents(*cs);
        return true;
      },
      [cs, keepalive](Napi::Env env) -> Napi::Value {
        Napi::Object obj = Data(env)->connectionCtor.New({});
        Connection* c = Connection::Unwrap(obj);
        c->cs_ = cs;
        obj.Set("keepaliveEnabled", Napi::Boolean::New(env, *keepalive == 0));
        return obj;
      });
}

Napi::Value Connection::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!cs_ || cs_->closed.exchange(true)) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(env.Undefined());
    return d.Promise();
  }
  ConnStatePtr cs = cs_;
  cs->sink->SetRef(env, false);  // the process may exit once close() has settled
  return Queue(env,
      [cs](ErrorInfo&) {
        DeregisterEvents(*cs);
        // Domain/pool objects still alive keep their own references; the connection is really torn
        // down when the last of them is freed.
        virConnectClose(cs->conn);
        EventSink* sink = cs->sink;
        cs->sink = nullptr;
        sink->Unref();
        return true;
      },
      DoneUndefined());
}

Napi::Value Connection::IsClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !cs_ || cs_->closed);
}

Napi::Value Connection::SetEventsRef(const Napi::CallbackInfo& info) {
  if (cs_ && !cs_->closed && cs_->sink) cs_->sink->SetRef(info.Env(), info.Length() > 0 && info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value Connection::IsAlive(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<int>(0);
  return WithConn(info, false, [out](virConnectPtr c, ErrorInfo&) { return (*out = virConnectIsAlive(c)) >= 0; },
                  [out](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *out == 1); });
}

Napi::Value Connection::ListAllDomains(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  auto out = std::make_shared<std::vector<virDomainPtr>>();
  ConnStatePtr cs = cs_;
  return WithConn(info, false,
      [out, flags](virConnectPtr c, ErrorInfo&) {
        virDomainPtr* doms = nullptr;
        int n = virConnectListAllDomains(c, &doms, flags);
        if (n < 0) return false;
        out->assign(doms, doms + n);
        free(doms);
        return true;
      },
      [out, cs](Napi::Env env) -> Napi::Value {
        Napi::Array arr = Napi::Array::New(env, out->size());
        for (size_t i = 0; i < out->size(); i++) arr.Set(static_cast<uint32_t>(i), WrapDomain(env, (*out)[i], cs));
        out->clear();
        return arr;
      });
}

Napi::Value Connection::LookupDomainByName(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "name");
  auto out = std::make_shared<virDomainPtr>(nullptr);
  return WithConn(info, false,
      [out, name](virConnectPtr c, ErrorInfo&) { return (*out = virDomainLookupByName(c, name.c_str())) != nullptr; },
      DoneDomain(out, cs_));
}

Napi::Value Connection::LookupDomainByUUID(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  auto out = std::make_shared<virDomainPtr>(nullptr);
  return WithConn(info, false,
      [out, uuid](virConnectPtr c, ErrorInfo&) { return (*out = virDomainLookupByUUIDString(c, uuid.c_str())) != nullptr; },
      DoneDomain(out, cs_));
}

Napi::Value Connection::LookupDomainByID(const Napi::CallbackInfo& info) {
  int id = ArgInt(info, 0, "id", -1);
  auto out = std::make_shared<virDomainPtr>(nullptr);
  return WithConn(info, false,
      [out, id](virConnectPtr c, ErrorInfo&) { return (*out = virDomainLookupByID(c, id)) != nullptr; },
      DoneDomain(out, cs_));
}

Napi::Value Connection::DefineDomain(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  unsigned int flags = ArgFlags(info, 1);
  auto out = std::make_shared<virDomainPtr>(nullptr);
  return WithConn(info, false,
      [out, xml, flags](virConnectPtr c, ErrorInfo&) { return (*out = virDomainDefineXMLFlags(c, xml.c_str(), flags)) != nullptr; },
      DoneDomain(out, cs_));
}

Napi::Value Connection::CreateDomain(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  unsigned int flags = ArgFlags(info, 1);
  auto out = std::make_shared<virDomainPtr>(nullptr);
  // Starting a guest can take seconds (image probing, QEMU start): dedicated thread.
  return WithConn(info, true,
      [out, xml, flags](virConnectPtr c, ErrorInfo&) { return (*out = virDomainCreateXML(c, xml.c_str(), flags)) != nullptr; },
      DoneDomain(out, cs_));
}

Napi::Function InitConnection(Napi::Env env) { return Connection::Init(env); }
