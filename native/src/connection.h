// Connection wrapper (virConnectPtr). Methods are split by concern across connection.cc (lifecycle,
// domains), connection_host.cc (host/node info, stats) and storage.cc (pool lookup/define).
#pragma once

#include "events.h"
#include "worker.h"

class Connection : public Napi::ObjectWrap<Connection> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Connection(const Napi::CallbackInfo& info);
  ~Connection() override;

  ConnStatePtr cs_;

 private:
  using ConnExec = std::function<bool(virConnectPtr, ErrorInfo&)>;
  // Rejects at once if closed; otherwise takes a connection reference for the duration of the call.
  Napi::Value WithConn(const Napi::CallbackInfo& info, bool longCall, ConnExec exec, DoneFn done);

  // connection.cc
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value IsClosed(const Napi::CallbackInfo& info);
  Napi::Value SetEventsRef(const Napi::CallbackInfo& info);
  Napi::Value IsAlive(const Napi::CallbackInfo& info);
  Napi::Value ListAllDomains(const Napi::CallbackInfo& info);
  Napi::Value LookupDomainByName(const Napi::CallbackInfo& info);
  Napi::Value LookupDomainByUUID(const Napi::CallbackInfo& info);
  Napi::Value LookupDomainByID(const Napi::CallbackInfo& info);
  Napi::Value DefineDomain(const Napi::CallbackInfo& info);
  Napi::Value CreateDomain(const Napi::CallbackInfo& info);
  // connection_host.cc
  Napi::Value GetHostname(const Napi::CallbackInfo& info);
  Napi::Value GetVersion(const Napi::CallbackInfo& info);
  Napi::Value GetLibVersion(const Napi::CallbackInfo& info);
  Napi::Value GetURI(const Napi::CallbackInfo& info);
  Napi::Value GetCapabilities(const Napi::CallbackInfo& info);
  Napi::Value GetNodeInfo(const Napi::CallbackInfo& info);
  Napi::Value GetFreeMemory(const Napi::CallbackInfo& info);
  Napi::Value GetNodeCPUStats(const Napi::CallbackInfo& info);
  Napi::Value GetNodeMemoryStats(const Napi::CallbackInfo& info);
  Napi::Value GetAllDomainStats(const Napi::CallbackInfo& info);
  // storage.cc
  Napi::Value ListAllStoragePools(const Napi::CallbackInfo& info);
  Napi::Value LookupStoragePoolByName(const Napi::CallbackInfo& info);
  Napi::Value LookupStorageVolByPath(const Napi::CallbackInfo& info);
  Napi::Value DefineStoragePool(const Napi::CallbackInfo& info);
  Napi::Value CreateStoragePool(const Napi::CallbackInfo& info);
  // secret.cc
  Napi::Value SetSecret(const Napi::CallbackInfo& info);
  Napi::Value UndefineSecret(const Napi::CallbackInfo& info);
};
