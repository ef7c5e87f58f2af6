#include "domain.h"

Napi::Function Domain::Init(Napi::Env env) {
  return DefineClass(env, "Domain", {
      InstanceMethod("getName", &Domain::GetName),
      InstanceMethod("getUUID", &Domain::GetUUID),
      InstanceMethod("getID", &Domain::GetID),
      InstanceMethod("getInfo", &Domain::GetInfo),
      InstanceMethod("getState", &Domain::GetState),
      InstanceMethod("getXMLDesc", &Domain::GetXMLDesc),
      InstanceMethod("isActive", &Domain::IsActive),
      InstanceMethod("isPersistent", &Domain::IsPersistent),
      InstanceMethod("getAutostart", &Domain::GetAutostart),
      InstanceMethod("setAutostart", &Domain::SetAutostart),
      InstanceMethod("create", &Domain::Create),
      InstanceMethod("shutdown", &Domain::Shutdown),
      InstanceMethod("destroy", &Domain::Destroy),
      InstanceMethod("reboot", &Domain::Reboot),
      InstanceMethod("reset", &Domain::Reset),
      InstanceMethod("suspend", &Domain::Suspend),
      InstanceMethod("resume", &Domain::Resume),
      InstanceMethod("undefine", &Domain::Undefine),
      InstanceMethod("managedSave", &Domain::ManagedSave),
      InstanceMethod("hasManagedSaveImage", &Domain::HasManagedSaveImage),
      InstanceMethod("managedSaveRemove", &Domain::ManagedSaveRemove),
      InstanceMethod("attachDevice", &Domain::AttachDevice),
      InstanceMethod("detachDevice", &Domain::DetachDevice),
      InstanceMethod("updateDevice", &Domain::UpdateDevice),
      InstanceMethod("detachDeviceAlias", &Domain::DetachDeviceAlias),
      InstanceMethod("setVcpus", &Domain::SetVcpus),
      InstanceMethod("setMemory", &Domain::SetMemory),
      InstanceMethod("getStats", &Domain::GetStats),
      InstanceMethod("migrateToURI3", &Domain::MigrateToURI3),
      InstanceMethod("migrateSetMaxSpeed", &Domain::MigrateSetMaxSpeed),
      InstanceMethod("migrateGetMaxSpeed", &Domain::MigrateGetMaxSpeed),
      InstanceMethod("migrateSetMaxDowntime", &Domain::MigrateSetMaxDowntime),
      InstanceMethod("migrateStartPostCopy", &Domain::MigrateStartPostCopy),
      InstanceMethod("getJobInfo", &Domain::GetJobInfo),
      InstanceMethod("getJobStats", &Domain::GetJobStats),
      InstanceMethod("abortJob", &Domain::AbortJob),
      InstanceMethod("getBlockJobInfo", &Domain::GetBlockJobInfo),
      InstanceMethod("blockJobAbort", &Domain::BlockJobAbort),
      InstanceMethod("blockJobSetSpeed", &Domain::BlockJobSetSpeed),
      InstanceMethod("blockCopy", &Domain::BlockCopy),
      InstanceMethod("blockCommit", &Domain::BlockCommit),
      InstanceMethod("blockPull", &Domain::BlockPull),
      InstanceMethod("blockResize", &Domain::BlockResize),
      InstanceMethod("snapshotCreateXML", &Domain::SnapshotCreateXML),
      InstanceMethod("listAllSnapshots", &Domain::ListAllSnapshots),
      InstanceMethod("snapshotLookupByName", &Domain::SnapshotLookupByName),
      InstanceMethod("snapshotCurrent", &Domain::SnapshotCurrent),
      InstanceMethod("hasCurrentSnapshot", &Domain::HasCurrentSnapshot),
  });
}

Domain::Domain(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Domain>(info) {}

Domain::~Domain() {
  if (!dom_) return;
  virDomainPtr d = dom_;
  dom_ = nullptr;
  // After close() this may be the last reference keeping a remote connection open; its teardown is
  // an RPC, which must not run on the JS thread (we are in a GC finalizer here).
  if (g_envTearingDown) return;
  if (cs_ && cs_->closed) FreeOffThread([d]() { virDomainFree(d); });
  else virDomainFree(d);
}

Napi::Object WrapDomain(Napi::Env env, virDomainPtr d, const ConnStatePtr& cs) {
  Napi::Object obj = Data(env)->domainCtor.New({});
  Domain* w = Domain::Unwrap(obj);
  w->dom_ = d;
  w->cs_ = cs;
  return obj;
}

Napi::Value Domain::WithDomain(const Napi::CallbackInfo& info, bool longCall, DomExec exec, DoneFn done) {
  Napi::Env env = info.Env();
  if (!dom_ || !cs_ || cs_->closed) return Rejected(env, ErrorInfo::Closed());
  DomainRef ref = RefOf(dom_);
  return Run(env, longCall, [ref, exec](ErrorInfo& err) { return exec(ref.get(), err); }, std::move(done));
}

Napi::Value Domain::VoidCall(const Napi::CallbackInfo& info, bool longCall, std::function<int(virDomainPtr)> fn) {
  return WithDomain(info, longCall, [fn](virDomainPtr d, ErrorInfo&) { return fn(d) >= 0; }, DoneUndefined());
}

Napi::Value Domain::BoolCall(const Napi::CallbackInfo& info, std::function<int(virDomainPtr)> fn) {
  auto out = std::make_shared<int>(0);
  return WithDomain(info, false, [fn, out](virDomainPtr d, ErrorInfo&) { return (*out = fn(d)) >= 0; },
                    [out](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *out > 0); });
}

// Name and UUID are cached in the virDomain object: reading them is local and cheap, so synchronous.
Napi::Value Domain::GetName(const Napi::CallbackInfo& info) {
  const char* n = dom_ ? virDomainGetName(dom_) : nullptr;
  return Napi::String::New(info.Env(), n ? n : "");
}

Napi::Value Domain::GetUUID(const Napi::CallbackInfo& info) {
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  if (dom_) virDomainGetUUIDString(dom_, uuid);
  return Napi::String::New(info.Env(), uuid);
}

Napi::Value Domain::GetID(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<unsigned int>(0);
  return WithDomain(info, false, [out](virDomainPtr d, ErrorInfo&) { *out = virDomainGetID(d); return true; },
      [out](Napi::Env env) -> Napi::Value {
        // (unsigned)-1 means "not running".
        return *out == static_cast<unsigned int>(-1) ? Napi::Number::New(env, -1) : Napi::Number::New(env, *out);
      });
}

Napi::Value Domain::GetInfo(const Napi::CallbackInfo& info) {
  auto di = std::make_shared<virDomainInfo>();
  return WithDomain(info, false, [di](virDomainPtr d, ErrorInfo&) { return virDomainGetInfo(d, di.get()) == 0; },
      [di](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("state", static_cast<int>(di->state));
        o.Set("maxMem", U64ToJS(env, di->maxMem));  // KiB
        o.Set("memory", U64ToJS(env, di->memory));  // KiB
        o.Set("nrVirtCpu", di->nrVirtCpu);
        o.Set("cpuTime", U64ToJS(env, di->cpuTime));  // ns
        return o;
      });
}

Napi::Value Domain::GetState(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  auto st = std::make_shared<std::pair<int, int>>(0, 0);
  return WithDomain(info, false,
      [st, flags](virDomainPtr d, ErrorInfo&) { return virDomainGetState(d, &st->first, &st->second, flags) == 0; },
      [st](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("state", st->first);
        o.Set("reason", st->second);
        return o;
      });
}

Napi::Value Domain::GetXMLDesc(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  auto s = std::make_shared<std::string>();
  return WithDomain(info, false,
      [s, flags](virDomainPtr d, ErrorInfo&) {
        char* x = virDomainGetXMLDesc(d, flags);
        if (!x) return false;
        *s = x;
        free(x);
        return true;
      },
      [s](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *s); });
}

Napi::Value Domain::IsActive(const Napi::CallbackInfo& info) { return BoolCall(info, virDomainIsActive); }
Napi::Value Domain::IsPersistent(const Napi::CallbackInfo& info) { return BoolCall(info, virDomainIsPersistent); }

Napi::Value Domain::GetAutostart(const Napi::CallbackInfo& info) {
  return BoolCall(info, [](virDomainPtr d) {
    int a = 0;
    return virDomainGetAutostart(d, &a) < 0 ? -1 : a;
  });
}

Napi::Value Domain::SetAutostart(const Napi::CallbackInfo& info) {
  int on = info.Length() > 0 && info[0].ToBoolean().Value() ? 1 : 0;
  return VoidCall(info, false, [on](virDomainPtr d) { return virDomainSetAutostart(d, on); });
}

Napi::Value Domain::Create(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  // Long: starting QEMU, or restoring a managed-save image, can take seconds.
  return VoidCall(info, true, [flags](virDomainPtr d) { return virDomainCreateWithFlags(d, flags); });
}

Napi::Value Domain::Shutdown(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  return VoidCall(info, false, [flags](virDomainPtr d) { return virDomainShutdownFlags(d, flags); });
}

Napi::Value Domain::Destroy(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  // Long-ish: destroy waits for QEMU to exit (~2 s measured; longer with a stuck process).
  return VoidCall(info, true, [flags](virDomainPtr d) { return virDomainDestroyFlags(d, flags); });
}

Napi::Value Domain::Reboot(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  return VoidCall(info, false, [flags](virDomainPtr d) { return virDomainReboot(d, flags); });
}

Napi::Value Domain::Reset(const Napi::CallbackInfo& info) {
  return VoidCall(info, false, [](virDomainPtr d) { return virDomainReset(d, 0); });
}

Napi::Value Domain::Suspend(const Napi::CallbackInfo& info) { return VoidCall(info, false, virDomainSuspend); }
Napi::Value Domain::Resume(const Napi::CallbackInfo& info) { return VoidCall(info, false, virDomainResume); }

Napi::Value Domain::Undefine(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  return VoidCall(info, false, [flags](virDomainPtr d) { return virDomainUndefineFlags(d, flags); });
}

Napi::Value Domain::ManagedSave(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  return VoidCall(info, true, [flags](virDomainPtr d) { return virDomainManagedSave(d, flags); });
}

Napi::Value Domain::HasManagedSaveImage(const Napi::CallbackInfo& info) {
  return BoolCall(info, [](virDomainPtr d) { return virDomainHasManagedSaveImage(d, 0); });
}

Napi::Value Domain::ManagedSaveRemove(const Napi::CallbackInfo& info) {
  return VoidCall(info, false, [](virDomainPtr d) { return virDomainManagedSaveRemove(d, 0); });
}

Napi::Value Domain::AttachDevice(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  unsigned int flags = ArgFlags(info, 1);
  return VoidCall(info, false, [xml, flags](virDomainPtr d) { return virDomainAttachDeviceFlags(d, xml.c_str(), flags); });
}

Napi::Value Domain::DetachDevice(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  unsigned int flags = ArgFlags(info, 1);
  // Long: a live detach waits for the guest to release the device (QEMU's unplug timeout is seconds).
  return VoidCall(info, true, [xml, flags](virDomainPtr d) { return virDomainDetachDeviceFlags(d, xml.c_str(), flags); });
}

Napi::Value Domain::UpdateDevice(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  unsigned int flags = ArgFlags(info, 1);
  return VoidCall(info, false, [xml, flags](virDomainPtr d) { return virDomainUpdateDeviceFlags(d, xml.c_str(), flags); });
}

Napi::Value Domain::DetachDeviceAlias(const Napi::CallbackInfo& info) {
  std::string alias = ArgString(info, 0, "alias");
  unsigned int flags = ArgFlags(info, 1);
  // Asynchronous in libvirt (returns once the unplug was requested); completion is the deviceRemoved event.
  return VoidCall(info, false, [alias, flags](virDomainPtr d) { return virDomainDetachDeviceAlias(d, alias.c_str(), flags); });
}

Napi::Value Domain::SetVcpus(const Napi::CallbackInfo& info) {
  unsigned int n = static_cast<unsigned int>(ArgInt(info, 0, "nvcpus", 0));
  unsigned int flags = ArgFlags(info, 1);
  return VoidCall(info, false, [n, flags](virDomainPtr d) { return virDomainSetVcpusFlags(d, n, flags); });
}

Napi::Value Domain::SetMemory(const Napi::CallbackInfo& info) {
  unsigned long long kib = ArgU64(info, 0, "memory (KiB)", 0);
  unsigned int flags = ArgFlags(info, 1);
  return VoidCall(info, false, [kib, flags](virDomainPtr d) {
    return virDomainSetMemoryFlags(d, static_cast<unsigned long>(kib), flags);
  });
}

Napi::Value Domain::GetStats(const Napi::CallbackInfo& info) {
  unsigned int stats = ArgFlags(info, 0);
  unsigned int flags = ArgFlags(info, 1);
  auto out = std::make_shared<ParamList>();
  return WithDomain(info, false,
      [out, stats, flags](virDomainPtr d, ErrorInfo&) {
        virDomainPtr doms[2] = {d, nullptr};
        virDomainStatsRecordPtr* recs = nullptr;
        int n = virDomainListGetStats(doms, stats, &recs, flags);
        if (n < 0) return false;
        if (n > 0) *out = CopyParams(recs[0]->params, recs[0]->nparams);
        virDomainStatsRecordListFree(recs);
        return true;
      },
      [out](Napi::Env env) -> Napi::Value { return ParamsToJS(env, *out); });
}

Napi::Function InitDomain(Napi::Env env) { return Domain::Init(env); }
