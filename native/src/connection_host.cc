// Host / hypervisor information and statistics.
#include "connection.h"

namespace {
DoneFn DoneString(std::shared_ptr<std::string> s) {
  return [s](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *s); };
}
// Take ownership of a malloc'd string returned by libvirt.
bool TakeString(char* p, std::string& out) {
  if (!p) return false;
  out = p;
  free(p);
  return true;
}
}  // namespace

Napi::Value Connection::GetHostname(const Napi::CallbackInfo& info) {
  auto s = std::make_shared<std::string>();
  return WithConn(info, false, [s](virConnectPtr c, ErrorInfo&) { return TakeString(virConnectGetHostname(c), *s); }, DoneString(s));
}

Napi::Value Connection::GetURI(const Napi::CallbackInfo& info) {
  auto s = std::make_shared<std::string>();
  return WithConn(info, false, [s](virConnectPtr c, ErrorInfo&) { return TakeString(virConnectGetURI(c), *s); }, DoneString(s));
}

Napi::Value Connection::GetCapabilities(const Napi::CallbackInfo& info) {
  auto s = std::make_shared<std::string>();
  return WithConn(info, false, [s](virConnectPtr c, ErrorInfo&) { return TakeString(virConnectGetCapabilities(c), *s); }, DoneString(s));
}

Napi::Value Connection::GetVersion(const Napi::CallbackInfo& info) {
  auto v = std::make_shared<unsigned long>(0);
  return WithConn(info, false, [v](virConnectPtr c, ErrorInfo&) { return virConnectGetVersion(c, v.get()) == 0; },
                  [v](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, static_cast<double>(*v)); });
}

Napi::Value Connection::GetLibVersion(const Napi::CallbackInfo& info) {
  auto v = std::make_shared<unsigned long>(0);
  return WithConn(info, false, [v](virConnectPtr c, ErrorInfo&) { return virConnectGetLibVersion(c, v.get()) == 0; },
                  [v](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, static_cast<double>(*v)); });
}

Napi::Value Connection::GetNodeInfo(const Napi::CallbackInfo& info) {
  auto ni = std::make_shared<virNodeInfo>();
  return WithConn(info, false, [ni](virConnectPtr c, ErrorInfo&) { return virNodeGetInfo(c, ni.get()) == 0; },
      [ni](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("model", Napi::String::New(env, ni->model));
        o.Set("memory", U64ToJS(env, ni->memory));  // KiB
        o.Set("cpus", ni->cpus);
        o.Set("mhz", ni->mhz);
        o.Set("nodes", ni->nodes);
        o.Set("sockets", ni->sockets);
        o.Set("cores", ni->cores);
        o.Set("threads", ni->threads);
        return o;
      });
}

Napi::Value Connection::GetFreeMemory(const Napi::CallbackInfo& info) {
  auto v = std::make_shared<unsigned long long>(0);
  return WithConn(info, false,
      [v](virConnectPtr c, ErrorInfo&) {
        virResetLastError();
        *v = virNodeGetFreeMemory(c);
        // 0 is both "no free memory" and the error return; only an error report disambiguates.
        return !(*v == 0 && virGetLastError() != nullptr);
      },
      [v](Napi::Env env) -> Napi::Value { return U64ToJS(env, *v); });
}

namespace {
// virNodeGetCPUStats and virNodeGetMemoryStats share one shape: ask for the number of fields, then fetch
// (field, value) pairs into a JS object. Returns the worker and completion functions for WithConn.
template <typename Stat>
std::pair<std::function<bool(virConnectPtr, ErrorInfo&)>, DoneFn> NodeStatsCall(
    int (*get)(virConnectPtr, int, Stat*, int*, unsigned int), int which, unsigned int flags) {
  auto out = std::make_shared<std::vector<std::pair<std::string, unsigned long long>>>();
  auto exec = [out, get, which, flags](virConnectPtr c, ErrorInfo&) {
    int n = 0;
    if (get(c, which, nullptr, &n, flags) < 0) return false;
    std::vector<Stat> st(n > 0 ? n : 0);
    if (n > 0 && get(c, which, st.data(), &n, flags) < 0) return false;
    for (int i = 0; i < n; i++) out->emplace_back(st[i].field, st[i].value);
    return true;
  };
  DoneFn done = [out](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    for (auto& kv : *out) o.Set(kv.first, U64ToJS(env, kv.second));
    return o;
  };
  return {exec, done};
}
}  // namespace

Napi::Value Connection::GetNodeCPUStats(const Napi::CallbackInfo& info) {
  auto [exec, done] = NodeStatsCall<virNodeCPUStats>(
      virNodeGetCPUStats, ArgInt(info, 0, "cpuNum", VIR_NODE_CPU_STATS_ALL_CPUS), ArgFlags(info, 1));
  return WithConn(info, false, exec, done);
}

Napi::Value Connection::GetNodeMemoryStats(const Napi::CallbackInfo& info) {
  auto [exec, done] = NodeStatsCall<virNodeMemoryStats>(
      virNodeGetMemoryStats, ArgInt(info, 0, "cellNum", VIR_NODE_MEMORY_STATS_ALL_CELLS), ArgFlags(info, 1));
  return WithConn(info, false, exec, done);
}

Napi::Value Connection::GetAllDomainStats(const Napi::CallbackInfo& info) {
  unsigned int stats = ArgFlags(info, 0);
  unsigned int flags = ArgFlags(info, 1);
  struct Rec { std::string name, uuid; ParamList params; };
  auto out = std::make_shared<std::vector<Rec>>();
  return WithConn(info, false,
      [out, stats, flags](virConnectPtr c, ErrorInfo&) {
        virDomainStatsRecordPtr* recs = nullptr;
        int n = virConnectGetAllDomainStats(c, stats, &recs, flags);
        if (n < 0) return false;
        for (int i = 0; i < n; i++) {
          Rec r;
          const char* nm = virDomainGetName(recs[i]->dom);
          r.name = nm ? nm : "";
          char uuid[VIR_UUID_STRING_BUFLEN] = {0};
          if (virDomainGetUUIDString(recs[i]->dom, uuid) == 0) r.uuid = uuid;
          r.params = CopyParams(recs[i]->params, recs[i]->nparams);
          out->push_back(std::move(r));
        }
        virDomainStatsRecordListFree(recs);
        return true;
      },
      [out](Napi::Env env) -> Napi::Value {
        Napi::Array arr = Napi::Array::New(env, out->size());
        for (size_t i = 0; i < out->size(); i++) {
          Napi::Object o = Napi::Object::New(env);
          o.Set("name", (*out)[i].name);
          o.Set("uuid", (*out)[i].uuid);
          o.Set("stats", ParamsToJS(env, (*out)[i].params));
          arr.Set(static_cast<uint32_t>(i), o);
        }
        return arr;
      });
}
