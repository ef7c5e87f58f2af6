// Domain wrapper (virDomainPtr). Methods are split across domain.cc (lifecycle, devices, resources),
// domain_jobs.cc (migration, jobs, block jobs) and snapshot.cc (snapshot create/list/lookup).
#pragma once

#include "typed_params.h"
#include "worker.h"

class Domain : public Napi::ObjectWrap<Domain> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Domain(const Napi::CallbackInfo& info);
  ~Domain() override;

  virDomainPtr dom_ = nullptr;  // owned reference
  ConnStatePtr cs_;

 private:
  using DomExec = std::function<bool(virDomainPtr, ErrorInfo&)>;
  // Rejects at once if the connection was closed; otherwise holds a domain reference for the call.
  Napi::Value WithDomain(const Napi::CallbackInfo& info, bool longCall, DomExec exec, DoneFn done);
  // For calls returning int: success when >= 0, resolves undefined.
  Napi::Value VoidCall(const Napi::CallbackInfo& info, bool longCall, std::function<int(virDomainPtr)> fn);
  // For calls returning int used as a boolean (1/0, -1 error).
  Napi::Value BoolCall(const Napi::CallbackInfo& info, std::function<int(virDomainPtr)> fn);

  Napi::Value GetName(const Napi::CallbackInfo& info);
  Napi::Value GetUUID(const Napi::CallbackInfo& info);
  // domain.cc
  Napi::Value GetID(const Napi::CallbackInfo& info);
  Napi::Value GetInfo(const Napi::CallbackInfo& info);
  Napi::Value GetState(const Napi::CallbackInfo& info);
  Napi::Value GetXMLDesc(const Napi::CallbackInfo& info);
  Napi::Value IsActive(const Napi::CallbackInfo& info);
  Napi::Value IsPersistent(const Napi::CallbackInfo& info);
  Napi::Value GetAutostart(const Napi::CallbackInfo& info);
  Napi::Value SetAutostart(const Napi::CallbackInfo& info);
  Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value Reboot(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value Suspend(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value Undefine(const Napi::CallbackInfo& info);
  Napi::Value ManagedSave(const Napi::CallbackInfo& info);
  Napi::Value HasManagedSaveImage(const Napi::CallbackInfo& info);
  Napi::Value ManagedSaveRemove(const Napi::CallbackInfo& info);
  Napi::Value AttachDevice(const Napi::CallbackInfo& info);
  Napi::Value DetachDevice(const Napi::CallbackInfo& info);
  Napi::Value UpdateDevice(const Napi::CallbackInfo& info);
  Napi::Value DetachDeviceAlias(const Napi::CallbackInfo& info);
  Napi::Value SetVcpus(const Napi::CallbackInfo& info);
  Napi::Value SetMemory(const Napi::CallbackInfo& info);
  Napi::Value GetStats(const Napi::CallbackInfo& info);
  // domain_jobs.cc
  Napi::Value MigrateToURI3(const Napi::CallbackInfo& info);
  Napi::Value MigrateSetMaxSpeed(const Napi::CallbackInfo& info);
  Napi::Value MigrateGetMaxSpeed(const Napi::CallbackInfo& info);
  Napi::Value MigrateSetMaxDowntime(const Napi::CallbackInfo& info);
  Napi::Value MigrateStartPostCopy(const Napi::CallbackInfo& info);
  Napi::Value GetJobInfo(const Napi::CallbackInfo& info);
  Napi::Value GetJobStats(const Napi::CallbackInfo& info);
  Napi::Value AbortJob(const Napi::CallbackInfo& info);
  Napi::Value GetBlockJobInfo(const Napi::CallbackInfo& info);
  Napi::Value BlockJobAbort(const Napi::CallbackInfo& info);
  Napi::Value BlockJobSetSpeed(const Napi::CallbackInfo& info);
  Napi::Value BlockCopy(const Napi::CallbackInfo& info);
  Napi::Value BlockCommit(const Napi::CallbackInfo& info);
  Napi::Value BlockPull(const Napi::CallbackInfo& info);
  Napi::Value BlockResize(const Napi::CallbackInfo& info);
  // snapshot.cc
  Napi::Value SnapshotCreateXML(const Napi::CallbackInfo& info);
  Napi::Value ListAllSnapshots(const Napi::CallbackInfo& info);
  Napi::Value SnapshotLookupByName(const Napi::CallbackInfo& info);
  Napi::Value SnapshotCurrent(const Napi::CallbackInfo& info);
  Napi::Value HasCurrentSnapshot(const Napi::CallbackInfo& info);
};
