#include "errors.h"

#include <cstring>

ErrorInfo ErrorInfo::CaptureLast() {
  ErrorInfo info;
  virError e;
  std::memset(&e, 0, sizeof(e));
  virCopyLastError(&e);
  info.set = true;
  if (e.code == VIR_ERR_OK) {
    // A libvirt call failed without reporting why; keep the failure typed anyway.
    info.code = VIR_ERR_INTERNAL_ERROR;
    info.domain = VIR_FROM_NONE;
    info.level = VIR_ERR_ERROR;
    info.message = "libvirt call failed without an error report";
  } else {
    info.code = e.code;
    info.domain = e.domain;
    info.level = e.level;
    info.message = e.message ? e.message : "unknown libvirt error";
    info.str1 = e.str1 ? e.str1 : "";
    info.int1 = e.int1;
  }
  virResetError(&e);
  virResetLastError();
  return info;
}

ErrorInfo ErrorInfo::Make(int code, int domain, const std::string& message) {
  ErrorInfo info;
  info.set = true;
  info.code = code;
  info.domain = domain;
  info.level = VIR_ERR_ERROR;
  info.message = message;
  return info;
}

Napi::Error ErrorInfo::ToJS(Napi::Env env) const {
  Napi::Error err = Napi::Error::New(env, message);
  Napi::Object o = err.Value();
  o.Set("libvirt", Napi::Boolean::New(env, true));
  o.Set("code", Napi::Number::New(env, code));
  o.Set("domain", Napi::Number::New(env, domain));
  o.Set("level", Napi::Number::New(env, level));
  if (!str1.empty()) o.Set("str1", Napi::String::New(env, str1));
  return err;
}

Napi::Value Rejected(Napi::Env env, const ErrorInfo& err) {
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(err.ToJS(env).Value());
  return d.Promise();
}
