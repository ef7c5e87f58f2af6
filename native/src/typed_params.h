// virTypedParameter conversion in both directions.
#pragma once

#include "common.h"

// Owned C array of typed parameters built on the JS thread from [name, type, value] tuples, where
// type is one of 'int' | 'uint' | 'llong' | 'ullong' | 'double' | 'boolean' | 'string'. Repeating a
// name is allowed (libvirt uses that for lists such as migrate_disks).
class TypedParamsIn {
 public:
  TypedParamsIn() = default;
  TypedParamsIn(const TypedParamsIn&) = delete;
  TypedParamsIn& operator=(const TypedParamsIn&) = delete;
  ~TypedParamsIn() { virTypedParamsFree(params_, n_); }
  void Fill(Napi::Env env, const Napi::Value& tuples);  // throws Napi::TypeError
  virTypedParameterPtr params() const { return params_; }
  int count() const { return n_; }

 private:
  virTypedParameterPtr params_ = nullptr;
  int n_ = 0;
  int max_ = 0;
};

// A plain C++ copy of typed parameters, safe to carry across threads (libvirt's array is freed by the
// thread that received it).
struct ParamValue {
  std::string name;
  int type = 0;
  long long i = 0;            // INT, LLONG, BOOLEAN
  unsigned long long u = 0;   // UINT, ULLONG
  double d = 0;
  std::string s;
};
using ParamList = std::vector<ParamValue>;

ParamList CopyParams(virTypedParameterPtr params, int n);
// {name: value}; 64-bit integers as number when safe, else BigInt.
Napi::Object ParamsToJS(Napi::Env env, const ParamList& list);
