#include "typed_params.h"

#include "errors.h"

namespace {
unsigned long long ToU64(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (v.IsBigInt()) {
    bool lossless = true;
    uint64_t r = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::TypeError::New(env, name + ": value out of range");
    return r;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d < 0) throw Napi::TypeError::New(env, name + ": value must be non-negative");
    return static_cast<unsigned long long>(d);
  }
  throw Napi::TypeError::New(env, name + ": expected a number or bigint");
}
long long ToI64(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (v.IsBigInt()) {
    bool lossless = true;
    int64_t r = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) throw Napi::TypeError::New(env, name + ": value out of range");
    return r;
  }
  if (v.IsNumber()) return v.As<Napi::Number>().Int64Value();
  throw Napi::TypeError::New(env, name + ": expected a number or bigint");
}
}  // namespace

void TypedParamsIn::Fill(Napi::Env env, const Napi::Value& tuples) {
  if (tuples.IsUndefined() || tuples.IsNull()) return;
  if (!tuples.IsArray()) throw Napi::TypeError::New(env, "typed params must be an array of [name, type, value]");
  Napi::Array arr = tuples.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value item = arr.Get(i);
    if (!item.IsArray() || item.As<Napi::Array>().Length() != 3)
      throw Napi::TypeError::New(env, "typed param entries must be [name, type, value]");
    Napi::Array t = item.As<Napi::Array>();
    std::string name = t.Get(0u).ToString().Utf8Value();
    std::string type = t.Get(1u).ToString().Utf8Value();
    Napi::Value v = t.Get(2u);
    int rc;
    if (type == "string") {
      if (!v.IsString()) throw Napi::TypeError::New(env, name + ": expected a string");
      rc = virTypedParamsAddString(&params_, &n_, &max_, name.c_str(), v.As<Napi::String>().Utf8Value().c_str());
    } else if (type == "int") {
      rc = virTypedParamsAddInt(&params_, &n_, &max_, name.c_str(), static_cast<int>(ToI64(env, v, name)));
    } else if (type == "uint") {
      rc = virTypedParamsAddUInt(&params_, &n_, &max_, name.c_str(), static_cast<unsigned int>(ToU64(env, v, name)));
    } else if (type == "llong") {
      rc = virTypedParamsAddLLong(&params_, &n_, &max_, name.c_str(), ToI64(env, v, name));
    } else if (type == "ullong") {
      rc = virTypedParamsAddULLong(&params_, &n_, &max_, name.c_str(), ToU64(env, v, name));
    } else if (type == "double") {
      if (!v.IsNumber()) throw Napi::TypeError::New(env, name + ": expected a number");
      rc = virTypedParamsAddDouble(&params_, &n_, &max_, name.c_str(), v.As<Napi::Number>().DoubleValue());
    } else if (type == "boolean") {
      rc = virTypedParamsAddBoolean(&params_, &n_, &max_, name.c_str(), v.ToBoolean().Value() ? 1 : 0);
    } else {
      throw Napi::TypeError::New(env, name + ": unknown typed param type '" + type + "'");
    }
    if (rc < 0) {
      ErrorInfo e = ErrorInfo::CaptureLast();  // same thread: the JS thread
      throw e.ToJS(env);
    }
  }
}

ParamList CopyParams(virTypedParameterPtr params, int n) {
  ParamList out;
  out.reserve(n > 0 ? n : 0);
  for (int i = 0; i < n; i++) {
    const virTypedParameter& p = params[i];
    ParamValue v;
    v.name = p.field;
    v.type = p.type;
    switch (p.type) {
      case VIR_TYPED_PARAM_INT: v.i = p.value.i; break;
      case VIR_TYPED_PARAM_UINT: v.u = p.value.ui; break;
      case VIR_TYPED_PARAM_LLONG: v.i = p.value.l; break;
      case VIR_TYPED_PARAM_ULLONG: v.u = p.value.ul; break;
      case VIR_TYPED_PARAM_DOUBLE: v.d = p.value.d; break;
      case VIR_TYPED_PARAM_BOOLEAN: v.i = p.value.b; break;
      case VIR_TYPED_PARAM_STRING: v.s = p.value.s ? p.value.s : ""; break;
      default: continue;
    }
    out.push_back(std::move(v));
  }
  return out;
}

Napi::Object ParamsToJS(Napi::Env env, const ParamList& list) {
  Napi::Object o = Napi::Object::New(env);
  for (const ParamValue& p : list) {
    Napi::Value v;
    switch (p.type) {
      case VIR_TYPED_PARAM_INT: v = Napi::Number::New(env, static_cast<double>(p.i)); break;
      case VIR_TYPED_PARAM_UINT: v = Napi::Number::New(env, static_cast<double>(p.u)); break;
      case VIR_TYPED_PARAM_LLONG: v = I64ToJS(env, p.i); break;
      case VIR_TYPED_PARAM_ULLONG: v = U64ToJS(env, p.u); break;
      case VIR_TYPED_PARAM_DOUBLE: v = Napi::Number::New(env, p.d); break;
      case VIR_TYPED_PARAM_BOOLEAN: v = Napi::Boolean::New(env, p.i != 0); break;
      default: v = Napi::String::New(env, p.s); break;
    }
    o.Set(p.name, v);  // repeated fields (only list-valued inputs use them) keep the last value
  }
  return o;
}
