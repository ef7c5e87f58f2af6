// Argument and 64-bit value conversion helpers.
#include <cmath>
#include <thread>

#include "common.h"

namespace {
Napi::TypeError TypeErr(const Napi::CallbackInfo& info, const char* what, const char* expected) {
  return Napi::TypeError::New(info.Env(), std::string(what) + " must be " + expected);
}
constexpr double kMaxSafe = 9007199254740991.0;
}  // namespace

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString()) throw TypeErr(info, what, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

bool ArgOptString(const Napi::CallbackInfo& info, size_t i, std::string& out) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return false;
  if (!info[i].IsString()) throw TypeErr(info, "argument", "a string or null");
  out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

unsigned int ArgFlags(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return 0;
  if (!info[i].IsNumber()) throw TypeErr(info, "flags", "a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

int ArgInt(const Napi::CallbackInfo& info, size_t i, const char* what, int def) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return def;
  if (!info[i].IsNumber()) throw TypeErr(info, what, "a number");
  return info[i].As<Napi::Number>().Int32Value();
}

unsigned long long ArgU64(const Napi::CallbackInfo& info, size_t i, const char* what, unsigned long long def) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return def;
  if (info[i].IsBigInt()) {
    bool lossless = true;
    uint64_t v = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw TypeErr(info, what, "a non-negative 64-bit integer");
    return v;
  }
  if (!info[i].IsNumber()) throw TypeErr(info, what, "a number or bigint");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > kMaxSafe || std::floor(d) != d) throw TypeErr(info, what, "a non-negative safe integer");
  return static_cast<unsigned long long>(d);
}

double ArgDouble(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) throw TypeErr(info, what, "a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

Napi::Value U64ToJS(Napi::Env env, unsigned long long v) {
  if (v <= 9007199254740991ULL) return Napi::Number::New(env, static_cast<double>(v));
  return Napi::BigInt::New(env, static_cast<uint64_t>(v));
}

Napi::Value I64ToJS(Napi::Env env, long long v) {
  if (v <= 9007199254740991LL && v >= -9007199254740991LL) return Napi::Number::New(env, static_cast<double>(v));
  return Napi::BigInt::New(env, static_cast<int64_t>(v));
}

std::atomic<bool> g_envTearingDown{false};

void FreeOffThread(std::function<void()> fn) {
  if (g_envTearingDown) return;  // process exit: the OS reclaims everything
  std::thread(std::move(fn)).detach();
}
