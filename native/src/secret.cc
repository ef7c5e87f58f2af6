// libvirt secrets (virSecret*): the cephx keys QEMU needs for rbd network disks. A secret is defined from its XML
// (usage type ceph, a fixed UUID) and given its value; both are idempotent for the same UUID.
#include "connection.h"

#include <vector>

Napi::Value Connection::SetSecret(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  if (info.Length() < 2 || !info[1].IsBuffer()) {
    Napi::TypeError::New(info.Env(), "value must be a Buffer").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  auto buf = info[1].As<Napi::Buffer<unsigned char>>();
  auto value = std::make_shared<std::vector<unsigned char>>(buf.Data(), buf.Data() + buf.Length());
  return WithConn(info, false, [xml, value](virConnectPtr c, ErrorInfo&) {
    virSecretPtr s = virSecretDefineXML(c, xml.c_str(), 0);
    if (!s) return false;
    bool ok = virSecretSetValue(s, value->data(), value->size(), 0) == 0;
    virSecretFree(s);
    return ok;
  }, DoneUndefined());
}

Napi::Value Connection::UndefineSecret(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  return WithConn(info, false, [uuid](virConnectPtr c, ErrorInfo&) {
    virSecretPtr s = virSecretLookupByUUIDString(c, uuid.c_str());
    if (!s) return false;
    bool ok = virSecretUndefine(s) == 0;
    virSecretFree(s);
    return ok;
  }, DoneUndefined());
}
