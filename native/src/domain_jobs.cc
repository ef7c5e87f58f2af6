// Migration, job control and block jobs. Calls that block for the duration of a job (migrateToURI3,
// blockCopy, blockCommit) run on dedicated threads so the job can be watched and aborted meanwhile.
#include "domain.h"

Napi::Value Domain::MigrateToURI3(const Napi::CallbackInfo& info) {
  std::string dconnuri;
  bool hasUri = ArgOptString(info, 0, dconnuri);
  auto params = std::make_shared<TypedParamsIn>();
  params->Fill(info.Env(), info.Length() > 1 ? info[1] : info.Env().Undefined());
  unsigned int flags = ArgFlags(info, 2);
  return VoidCall(info, true, [dconnuri, hasUri, params, flags](virDomainPtr d) {
    return virDomainMigrateToURI3(d, hasUri ? dconnuri.c_str() : nullptr, params->params(), params->count(), flags);
  });
}

Napi::Value Domain::MigrateSetMaxSpeed(const Napi::CallbackInfo& info) {
  unsigned long long bw = ArgU64(info, 0, "bandwidth (MiB/s)", 0);
  unsigned int flags = ArgFlags(info, 1);
  return VoidCall(info, false, [bw, flags](virDomainPtr d) {
    return virDomainMigrateSetMaxSpeed(d, static_cast<unsigned long>(bw), flags);
  });
}

Napi::Value Domain::MigrateGetMaxSpeed(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  auto out = std::make_shared<unsigned long>(0);
  return WithDomain(info, false,
      [out, flags](virDomainPtr d, ErrorInfo&) { return virDomainMigrateGetMaxSpeed(d, out.get(), flags) == 0; },
      [out](Napi::Env env) -> Napi::Value { return U64ToJS(env, *out); });
}

Napi::Value Domain::MigrateSetMaxDowntime(const Napi::CallbackInfo& info) {
  unsigned long long ms = ArgU64(info, 0, "downtime (ms)", 0);
  unsigned int flags = ArgFlags(info, 1);
  return VoidCall(info, false, [ms, flags](virDomainPtr d) { return virDomainMigrateSetMaxDowntime(d, ms, flags); });
}

Napi::Value Domain::MigrateStartPostCopy(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  return VoidCall(info, false, [flags](virDomainPtr d) { return virDomainMigrateStartPostCopy(d, flags); });
}

Napi::Value Domain::GetJobInfo(const Napi::CallbackInfo& info) {
  auto ji = std::make_shared<virDomainJobInfo>();
  return WithDomain(info, false, [ji](virDomainPtr d, ErrorInfo&) { return virDomainGetJobInfo(d, ji.get()) == 0; },
      [ji](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("type", ji->type);
        o.Set("timeElapsed", U64ToJS(env, ji->timeElapsed));
        o.Set("timeRemaining", U64ToJS(env, ji->timeRemaining));
        o.Set("dataTotal", U64ToJS(env, ji->dataTotal));
        o.Set("dataProcessed", U64ToJS(env, ji->dataProcessed));
        o.Set("dataRemaining", U64ToJS(env, ji->dataRemaining));
        o.Set("memTotal", U64ToJS(env, ji->memTotal));
        o.Set("memProcessed", U64ToJS(env, ji->memProcessed));
        o.Set("memRemaining", U64ToJS(env, ji->memRemaining));
        o.Set("fileTotal", U64ToJS(env, ji->fileTotal));
        o.Set("fileProcessed", U64ToJS(env, ji->fileProcessed));
        o.Set("fileRemaining", U64ToJS(env, ji->fileRemaining));
        return o;
      });
}

Napi::Value Domain::GetJobStats(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  struct Out { int type = 0; ParamList params; };
  auto out = std::make_shared<Out>();
  return WithDomain(info, false,
      [out, flags](virDomainPtr d, ErrorInfo&) {
        virTypedParameterPtr params = nullptr;
        int n = 0;
        if (virDomainGetJobStats(d, &out->type, &params, &n, flags) < 0) return false;
        out->params = CopyParams(params, n);
        virTypedParamsFree(params, n);
        return true;
      },
      [out](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("type", out->type);
        o.Set("stats", ParamsToJS(env, out->params));
        return o;
      });
}

Napi::Value Domain::AbortJob(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  return VoidCall(info, false, [flags](virDomainPtr d) {
    return flags ? virDomainAbortJobFlags(d, flags) : virDomainAbortJob(d);
  });
}

Napi::Value Domain::GetBlockJobInfo(const Napi::CallbackInfo& info) {
  std::string disk = ArgString(info, 0, "disk");
  unsigned int flags = ArgFlags(info, 1);
  struct Out { int rc = 0; virDomainBlockJobInfo bi{}; };
  auto out = std::make_shared<Out>();
  return WithDomain(info, false,
      [out, disk, flags](virDomainPtr d, ErrorInfo&) {
        return (out->rc = virDomainGetBlockJobInfo(d, disk.c_str(), &out->bi, flags)) >= 0;
      },
      [out](Napi::Env env) -> Napi::Value {
        if (out->rc == 0) return env.Null();  // no job on that disk
        Napi::Object o = Napi::Object::New(env);
        o.Set("type", out->bi.type);
        o.Set("bandwidth", U64ToJS(env, out->bi.bandwidth));
        o.Set("cur", U64ToJS(env, out->bi.cur));
        o.Set("end", U64ToJS(env, out->bi.end));
        return o;
      });
}

Napi::Value Domain::BlockJobAbort(const Napi::CallbackInfo& info) {
  std::string disk = ArgString(info, 0, "disk");
  unsigned int flags = ArgFlags(info, 1);
  // Long: with PIVOT or without ASYNC this waits for QEMU to finish the job.
  return VoidCall(info, true, [disk, flags](virDomainPtr d) { return virDomainBlockJobAbort(d, disk.c_str(), flags); });
}

Napi::Value Domain::BlockJobSetSpeed(const Napi::CallbackInfo& info) {
  std::string disk = ArgString(info, 0, "disk");
  unsigned long long bw = ArgU64(info, 1, "bandwidth", 0);
  unsigned int flags = ArgFlags(info, 2);
  return VoidCall(info, false, [disk, bw, flags](virDomainPtr d) {
    return virDomainBlockJobSetSpeed(d, disk.c_str(), static_cast<unsigned long>(bw), flags);
  });
}

Napi::Value Domain::BlockCopy(const Napi::CallbackInfo& info) {
  std::string disk = ArgString(info, 0, "disk");
  std::string destxml = ArgString(info, 1, "destxml");
  auto params = std::make_shared<TypedParamsIn>();
  params->Fill(info.Env(), info.Length() > 2 ? info[2] : info.Env().Undefined());
  unsigned int flags = ArgFlags(info, 3);
  return VoidCall(info, true, [disk, destxml, params, flags](virDomainPtr d) {
    return virDomainBlockCopy(d, disk.c_str(), destxml.c_str(), params->params(), params->count(), flags);
  });
}

Napi::Value Domain::BlockCommit(const Napi::CallbackInfo& info) {
  std::string disk = ArgString(info, 0, "disk");
  std::string base, top;
  bool hasBase = ArgOptString(info, 1, base);
  bool hasTop = ArgOptString(info, 2, top);
  unsigned long long bw = ArgU64(info, 3, "bandwidth", 0);
  unsigned int flags = ArgFlags(info, 4);
  return VoidCall(info, true, [=](virDomainPtr d) {
    return virDomainBlockCommit(d, disk.c_str(), hasBase ? base.c_str() : nullptr, hasTop ? top.c_str() : nullptr,
                                static_cast<unsigned long>(bw), flags);
  });
}

Napi::Value Domain::BlockPull(const Napi::CallbackInfo& info) {
  std::string disk = ArgString(info, 0, "disk");
  unsigned long long bw = ArgU64(info, 1, "bandwidth", 0);
  unsigned int flags = ArgFlags(info, 2);
  return VoidCall(info, true, [disk, bw, flags](virDomainPtr d) {
    return virDomainBlockPull(d, disk.c_str(), static_cast<unsigned long>(bw), flags);
  });
}

Napi::Value Domain::BlockResize(const Napi::CallbackInfo& info) {
  std::string disk = ArgString(info, 0, "disk");
  unsigned long long size = ArgU64(info, 1, "size", 0);
  unsigned int flags = ArgFlags(info, 2);
  return VoidCall(info, false, [disk, size, flags](virDomainPtr d) { return virDomainBlockResize(d, disk.c_str(), size, flags); });
}
