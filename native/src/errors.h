// libvirt error capture. virGetLastError() is thread-local, so the error must be copied on the thread
// that made the failing call (a worker) and turned into a JS object later, on the JS thread.
#pragma once

#include "common.h"

struct ErrorInfo {
  bool set = false;
  int code = 0;    // virErrorNumber
  int domain = 0;  // virErrorDomain
  int level = 0;   // virErrorLevel
  std::string message;
  std::string str1;
  int int1 = 0;

  // Copy this thread's last libvirt error and reset it (so it can't leak into a later call).
  static ErrorInfo CaptureLast();
  // Synthetic errors (e.g. the connection was closed by us), shaped like libvirt's.
  static ErrorInfo Make(int code, int domain, const std::string& message);
  static ErrorInfo Closed() { return Make(VIR_ERR_INVALID_CONN, VIR_FROM_NONE, "connection is closed"); }

  // Build an Error carrying {code, domain, level, libvirt: true}; the TS layer turns it into LibvirtError.
  Napi::Error ToJS(Napi::Env env) const;
};

// A promise already rejected with `err`.
Napi::Value Rejected(Napi::Env env, const ErrorInfo& err);
