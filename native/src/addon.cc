// Module entry: libvirt event loop setup and exports.
#include <mutex>
#include <thread>

#include "common.h"
#include "worker.h"

namespace {

void SilentErrorHandler(void*, virErrorPtr) {
  // libvirt's default handler prints every error to stderr; errors are reported as rejections instead.
}

// Must happen before any virConnectOpen: keepalive, close callbacks and domain events all need a
// registered event loop implementation, driven by a thread of our own (never the JS thread).
void StartEventLoop() {
  static std::once_flag once;
  std::call_once(once, []() {
    virInitialize();
    virSetErrorFunc(nullptr, SilentErrorHandler);
    virEventRegisterDefaultImpl();
    std::thread([]() {
      for (;;) {
        if (virEventRunDefaultImpl() < 0) {
          virResetLastError();
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    }).detach();
  });
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  unsigned long v = 0;
  virGetVersion(&v, nullptr, nullptr);
  return Napi::Number::New(info.Env(), static_cast<double>(v));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  StartEventLoop();
  auto* data = new AddonData();
  data->connectionCtor = Napi::Persistent(InitConnection(env));
  data->domainCtor = Napi::Persistent(InitDomain(env));
  data->snapshotCtor = Napi::Persistent(InitSnapshot(env));
  data->poolCtor = Napi::Persistent(InitStoragePool(env));
  data->volumeCtor = Napi::Persistent(InitStorageVolume(env));
  env.SetInstanceData<AddonData>(data);
  InitShortPool(env);
  // Registered after N-API's own teardown hook, so it runs first (hooks run in reverse order).
  env.AddCleanupHook([]() { g_envTearingDown = true; });
  exports.Set("open", Napi::Function::New(env, OpenConnection, "open"));
  exports.Set("getVersion", Napi::Function::New(env, Version, "getVersion"));
  return exports;
}

}  // namespace

NODE_API_MODULE(novalet_libvirt, Init)
