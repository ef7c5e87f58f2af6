// Shared declarations for the novalet libvirt addon.
#pragma once

#include <napi.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

class EventSink;
class ShortPool;

// State shared by a Connection wrapper and every domain/pool/volume/snapshot object created from it.
// `closed` is flipped on the JS thread by close(); every wrapper checks it (on the JS thread) before
// queueing work, so work queued earlier keeps its own virConnectRef and finishes safely.
struct ConnState {
  virConnectPtr conn = nullptr;  // our own reference, dropped by close()
  std::atomic<bool> closed{false};
  EventSink* sink = nullptr;     // owned via EventSink refcount
  std::vector<int> eventIds;     // virConnectDomainEventRegisterAny ids
  bool closeCbRegistered = false;
};
using ConnStatePtr = std::shared_ptr<ConnState>;

// Per-env constructors for the wrapped classes (set once in addon.cc).
struct AddonData {
  Napi::FunctionReference connectionCtor;
  Napi::FunctionReference domainCtor;
  Napi::FunctionReference snapshotCtor;
  Napi::FunctionReference poolCtor;
  Napi::FunctionReference volumeCtor;
  ShortPool* pool = nullptr;  // worker.cc
};
inline AddonData* Data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// Reference-holding smart pointers: taken on the JS thread before work is queued, released by the
// worker thread when the work is done (see worker.cc), so a GC'd JS object cannot free a pointer a
// libvirt call is still using.
using DomainRef = std::shared_ptr<virDomain>;
using ConnRef = std::shared_ptr<virConnect>;
using PoolRef = std::shared_ptr<virStoragePool>;
using VolRef = std::shared_ptr<virStorageVol>;
using SnapRef = std::shared_ptr<virDomainSnapshot>;
inline DomainRef RefOf(virDomainPtr p) { virDomainRef(p); return DomainRef(p, virDomainFree); }
inline ConnRef RefOf(virConnectPtr p) { virConnectRef(p); return ConnRef(p, virConnectClose); }
inline PoolRef RefOf(virStoragePoolPtr p) { virStoragePoolRef(p); return PoolRef(p, virStoragePoolFree); }
inline VolRef RefOf(virStorageVolPtr p) { virStorageVolRef(p); return VolRef(p, virStorageVolFree); }
inline SnapRef RefOf(virDomainSnapshotPtr p) { virDomainSnapshotRef(p); return SnapRef(p, virDomainSnapshotFree); }

// ---- argument helpers (throw Napi::TypeError, surfaced as a rejected promise by the TS layer) ----
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* what);
// Returns false (and leaves `out` empty) when the argument is null/undefined.
bool ArgOptString(const Napi::CallbackInfo& info, size_t i, std::string& out);
unsigned int ArgFlags(const Napi::CallbackInfo& info, size_t i);
int ArgInt(const Napi::CallbackInfo& info, size_t i, const char* what, int def);
unsigned long long ArgU64(const Napi::CallbackInfo& info, size_t i, const char* what, unsigned long long def);
double ArgDouble(const Napi::CallbackInfo& info, size_t i, const char* what);

// 64-bit values: a JS number when |v| <= 2^53-1, a BigInt otherwise (documented in the TS layer).
Napi::Value U64ToJS(Napi::Env env, unsigned long long v);
Napi::Value I64ToJS(Napi::Env env, long long v);

// Set by an env cleanup hook when Node tears the environment down (process exit). Finalizers then
// leak instead of freeing: spawning teardown threads while the process exits races with exit().
extern std::atomic<bool> g_envTearingDown;

// Free a libvirt object off the JS thread when dropping it could be the last reference of a closed
// remote connection (that runs a blocking CONNECT_CLOSE RPC).
void FreeOffThread(std::function<void()> fn);

// Class initialisers (each file registers its class).
Napi::Function InitConnection(Napi::Env env);
Napi::Function InitDomain(Napi::Env env);
Napi::Function InitSnapshot(Napi::Env env);
Napi::Function InitStoragePool(Napi::Env env);
Napi::Function InitStorageVolume(Napi::Env env);

// Factories: wrap an owned pointer (the JS object takes over that reference).
Napi::Object WrapDomain(Napi::Env env, virDomainPtr d, const ConnStatePtr& cs);
Napi::Object WrapSnapshot(Napi::Env env, virDomainSnapshotPtr s, const ConnStatePtr& cs);
Napi::Object WrapPool(Napi::Env env, virStoragePoolPtr p, const ConnStatePtr& cs);
Napi::Object WrapVolume(Napi::Env env, virStorageVolPtr v, const ConnStatePtr& cs);

// Open a connection: open(uri, {readonly, keepaliveInterval, keepaliveCount}, emit) -> Promise.
Napi::Value OpenConnection(const Napi::CallbackInfo& info);
