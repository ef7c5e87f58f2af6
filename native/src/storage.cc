// Storage pools and volumes, plus the Connection methods that look them up / define them.
#include "connection.h"

namespace {

bool TakeString(char* p, std::string& out) {
  if (!p) return false;
  out = p;
  free(p);
  return true;
}

// Common base for the pool/volume wrappers: owned pointer + closed-connection guard.
template <class Self, class Ptr, class RefT>
class StorageWrap : public Napi::ObjectWrap<Self> {
 public:
  explicit StorageWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Self>(info) {}
  Ptr ptr_ = nullptr;
  ConnStatePtr cs_;

 protected:
  using Exec = std::function<bool(Ptr, ErrorInfo&)>;
  Napi::Value With(const Napi::CallbackInfo& info, bool longCall, Exec exec, DoneFn done) {
    Napi::Env env = info.Env();
    if (!ptr_ || !cs_ || cs_->closed) return Rejected(env, ErrorInfo::Closed());
    RefT ref = RefOf(ptr_);
    return Run(env, longCall, [ref, exec](ErrorInfo& err) { return exec(ref.get(), err); }, std::move(done));
  }
  Napi::Value Void(const Napi::CallbackInfo& info, bool longCall, std::function<int(Ptr)> fn) {
    return With(info, longCall, [fn](Ptr p, ErrorInfo&) { return fn(p) >= 0; }, DoneUndefined());
  }
  Napi::Value Str(const Napi::CallbackInfo& info, std::function<char*(Ptr)> fn) {
    auto s = std::make_shared<std::string>();
    return With(info, false, [s, fn](Ptr p, ErrorInfo&) { return TakeString(fn(p), *s); },
                [s](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *s); });
  }
};

class StorageVolume : public StorageWrap<StorageVolume, virStorageVolPtr, VolRef> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "StorageVolume", {
        InstanceMethod("getName", &StorageVolume::GetName),
        InstanceMethod("getKey", &StorageVolume::GetKey),
        InstanceMethod("getPath", &StorageVolume::GetPath),
        InstanceMethod("getInfo", &StorageVolume::GetInfo),
        InstanceMethod("getXMLDesc", &StorageVolume::GetXMLDesc),
        InstanceMethod("delete", &StorageVolume::Delete),
        InstanceMethod("resize", &StorageVolume::Resize),
        InstanceMethod("wipe", &StorageVolume::Wipe),
    });
  }
  using StorageWrap::StorageWrap;
  ~StorageVolume() override {
    if (!ptr_) return;
    virStorageVolPtr v = ptr_;
    ptr_ = nullptr;
    if (g_envTearingDown) return;
    if (cs_ && cs_->closed) FreeOffThread([v]() { virStorageVolFree(v); });
    else virStorageVolFree(v);
  }

 private:
  // Name and key are cached in the object (local reads).
  Napi::Value GetName(const Napi::CallbackInfo& info) {
    const char* n = ptr_ ? virStorageVolGetName(ptr_) : nullptr;
    return Napi::String::New(info.Env(), n ? n : "");
  }
  Napi::Value GetKey(const Napi::CallbackInfo& info) {
    const char* n = ptr_ ? virStorageVolGetKey(ptr_) : nullptr;
    return Napi::String::New(info.Env(), n ? n : "");
  }
  Napi::Value GetPath(const Napi::CallbackInfo& info) { return Str(info, virStorageVolGetPath); }
  Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
    unsigned int flags = ArgFlags(info, 0);
    return Str(info, [flags](virStorageVolPtr v) { return virStorageVolGetXMLDesc(v, flags); });
  }
  Napi::Value GetInfo(const Napi::CallbackInfo& info) {
    auto vi = std::make_shared<virStorageVolInfo>();
    return With(info, false, [vi](virStorageVolPtr v, ErrorInfo&) { return virStorageVolGetInfo(v, vi.get()) == 0; },
        [vi](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("type", vi->type);
          o.Set("capacity", U64ToJS(env, vi->capacity));      // bytes
          o.Set("allocation", U64ToJS(env, vi->allocation));  // bytes
          return o;
        });
  }
  Napi::Value Delete(const Napi::CallbackInfo& info) {
    unsigned int flags = ArgFlags(info, 0);
    return Void(info, false, [flags](virStorageVolPtr v) { return virStorageVolDelete(v, flags); });
  }
  Napi::Value Resize(const Napi::CallbackInfo& info) {
    unsigned long long cap = ArgU64(info, 0, "capacity", 0);
    unsigned int flags = ArgFlags(info, 1);
    return Void(info, true, [cap, flags](virStorageVolPtr v) { return virStorageVolResize(v, cap, flags); });
  }
  Napi::Value Wipe(const Napi::CallbackInfo& info) {
    return Void(info, true, [](virStorageVolPtr v) { return virStorageVolWipe(v, 0); });
  }
};

class StoragePool : public StorageWrap<StoragePool, virStoragePoolPtr, PoolRef> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "StoragePool", {
        InstanceMethod("getName", &StoragePool::GetName),
        InstanceMethod("getUUID", &StoragePool::GetUUID),
        InstanceMethod("getInfo", &StoragePool::GetInfo),
        InstanceMethod("getXMLDesc", &StoragePool::GetXMLDesc),
        InstanceMethod("isActive", &StoragePool::IsActive),
        InstanceMethod("create", &StoragePool::Create),
        InstanceMethod("build", &StoragePool::Build),
        InstanceMethod("destroy", &StoragePool::Destroy),
        InstanceMethod("undefine", &StoragePool::Undefine),
        InstanceMethod("refresh", &StoragePool::Refresh),
        InstanceMethod("setAutostart", &StoragePool::SetAutostart),
        InstanceMethod("listAllVolumes", &StoragePool::ListAllVolumes),
        InstanceMethod("lookupVolumeByName", &StoragePool::LookupVolumeByName),
        InstanceMethod("createVolume", &StoragePool::CreateVolume),
        InstanceMethod("createVolumeFrom", &StoragePool::CreateVolumeFrom),
    });
  }
  using StorageWrap::StorageWrap;
  ~StoragePool() override {
    if (!ptr_) return;
    virStoragePoolPtr p = ptr_;
    ptr_ = nullptr;
    if (g_envTearingDown) return;
    if (cs_ && cs_->closed) FreeOffThread([p]() { virStoragePoolFree(p); });
    else virStoragePoolFree(p);
  }

 private:
  Napi::Value GetName(const Napi::CallbackInfo& info) {
    const char* n = ptr_ ? virStoragePoolGetName(ptr_) : nullptr;
    return Napi::String::New(info.Env(), n ? n : "");
  }
  Napi::Value GetUUID(const Napi::CallbackInfo& info) {
    char uuid[VIR_UUID_STRING_BUFLEN] = {0};
    if (ptr_) virStoragePoolGetUUIDString(ptr_, uuid);
    return Napi::String::New(info.Env(), uuid);
  }
  Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
    unsigned int flags = ArgFlags(info, 0);
    return Str(info, [flags](virStoragePoolPtr p) { return virStoragePoolGetXMLDesc(p, flags); });
  }
  Napi::Value GetInfo(const Napi::CallbackInfo& info) {
    auto pi = std::make_shared<virStoragePoolInfo>();
    return With(info, false, [pi](virStoragePoolPtr p, ErrorInfo&) { return virStoragePoolGetInfo(p, pi.get()) == 0; },
        [pi](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("state", pi->state);
          o.Set("capacity", U64ToJS(env, pi->capacity));
          o.Set("allocation", U64ToJS(env, pi->allocation));
          o.Set("available", U64ToJS(env, pi->available));
          return o;
        });
  }
  Napi::Value IsActive(const Napi::CallbackInfo& info) {
    auto out = std::make_shared<int>(0);
    return With(info, false, [out](virStoragePoolPtr p, ErrorInfo&) { return (*out = virStoragePoolIsActive(p)) >= 0; },
                [out](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *out == 1); });
  }
  Napi::Value Create(const Napi::CallbackInfo& info) {
    unsigned int flags = ArgFlags(info, 0);
    return Void(info, true, [flags](virStoragePoolPtr p) { return virStoragePoolCreate(p, flags); });
  }
  Napi::Value Build(const Napi::CallbackInfo& info) {
    unsigned int flags = ArgFlags(info, 0);
    return Void(info, true, [flags](virStoragePoolPtr p) { return virStoragePoolBuild(p, flags); });
  }
  Napi::Value Destroy(const Napi::CallbackInfo& info) { return Void(info, false, virStoragePoolDestroy); }
  Napi::Value Undefine(const Napi::CallbackInfo& info) { return Void(info, false, virStoragePoolUndefine); }
  Napi::Value Refresh(const Napi::CallbackInfo& info) {
    unsigned int flags = ArgFlags(info, 0);
    return Void(info, true, [flags](virStoragePoolPtr p) { return virStoragePoolRefresh(p, flags); });
  }
  Napi::Value SetAutostart(const Napi::CallbackInfo& info) {
    int on = info.Length() > 0 && info[0].ToBoolean().Value() ? 1 : 0;
    return Void(info, false, [on](virStoragePoolPtr p) { return virStoragePoolSetAutostart(p, on); });
  }
  Napi::Value ListAllVolumes(const Napi::CallbackInfo& info) {
    unsigned int flags = ArgFlags(info, 0);
    auto out = std::make_shared<std::vector<virStorageVolPtr>>();
    ConnStatePtr cs = cs_;
    return With(info, false,
        [out, flags](virStoragePoolPtr p, ErrorInfo&) {
          virStorageVolPtr* vols = nullptr;
          int n = virStoragePoolListAllVolumes(p, &vols, flags);
          if (n < 0) return false;
          out->assign(vols, vols + n);
          free(vols);
          return true;
        },
        [out, cs](Napi::Env env) -> Napi::Value {
          Napi::Array arr = Napi::Array::New(env, out->size());
          for (size_t i = 0; i < out->size(); i++) arr.Set(static_cast<uint32_t>(i), WrapVolume(env, (*out)[i], cs));
          out->clear();
          return arr;
        });
  }
  DoneFn DoneVol(std::shared_ptr<virStorageVolPtr> out) {
    ConnStatePtr cs = cs_;
    return [out, cs](Napi::Env env) -> Napi::Value {
      virStorageVolPtr v = *out;
      *out = nullptr;
      return WrapVolume(env, v, cs);
    };
  }
  Napi::Value LookupVolumeByName(const Napi::CallbackInfo& info) {
    std::string name = ArgString(info, 0, "name");
    auto out = std::make_shared<virStorageVolPtr>(nullptr);
    return With(info, false,
        [out, name](virStoragePoolPtr p, ErrorInfo&) { return (*out = virStorageVolLookupByName(p, name.c_str())) != nullptr; },
        DoneVol(out));
  }
  Napi::Value CreateVolume(const Napi::CallbackInfo& info) {
    std::string xml = ArgString(info, 0, "xml");
    unsigned int flags = ArgFlags(info, 1);
    auto out = std::make_shared<virStorageVolPtr>(nullptr);
    // Long: preallocated or non-sparse volumes write the whole size.
    return With(info, true,
        [out, xml, flags](virStoragePoolPtr p, ErrorInfo&) { return (*out = virStorageVolCreateXML(p, xml.c_str(), flags)) != nullptr; },
        DoneVol(out));
  }
  Napi::Value CreateVolumeFrom(const Napi::CallbackInfo& info) {
    std::string xml = ArgString(info, 0, "xml");
    if (info.Length() < 2 || !info[1].IsObject()) throw Napi::TypeError::New(info.Env(), "source volume required");
    StorageVolume* src = StorageVolume::Unwrap(info[1].As<Napi::Object>());
    if (!src || !src->ptr_) throw Napi::TypeError::New(info.Env(), "invalid source volume");
    VolRef srcRef = RefOf(src->ptr_);
    unsigned int flags = ArgFlags(info, 2);
    auto out = std::make_shared<virStorageVolPtr>(nullptr);
    // Long: copies the whole source volume.
    return With(info, true,
        [out, xml, srcRef, flags](virStoragePoolPtr p, ErrorInfo&) {
          return (*out = virStorageVolCreateXMLFrom(p, xml.c_str(), srcRef.get(), flags)) != nullptr;
        },
        DoneVol(out));
  }
};

DoneFn DonePool(std::shared_ptr<virStoragePoolPtr> out, ConnStatePtr cs) {
  return [out, cs](Napi::Env env) -> Napi::Value {
    virStoragePoolPtr p = *out;
    *out = nullptr;
    return WrapPool(env, p, cs);
  };
}

}  // namespace

Napi::Function InitStoragePool(Napi::Env env) { return StoragePool::Init(env); }
Napi::Function InitStorageVolume(Napi::Env env) { return StorageVolume::Init(env); }

Napi::Object WrapPool(Napi::Env env, virStoragePoolPtr p, const ConnStatePtr& cs) {
  Napi::Object obj = Data(env)->poolCtor.New({});
  StoragePool* w = StoragePool::Unwrap(obj);
  w->ptr_ = p;
  w->cs_ = cs;
  return obj;
}

Napi::Object WrapVolume(Napi::Env env, virStorageVolPtr v, const ConnStatePtr& cs) {
  Napi::Object obj = Data(env)->volumeCtor.New({});
  StorageVolume* w = StorageVolume::Unwrap(obj);
  w->ptr_ = v;
  w->cs_ = cs;
  return obj;
}

Napi::Value Connection::ListAllStoragePools(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  auto out = std::make_shared<std::vector<virStoragePoolPtr>>();
  ConnStatePtr cs = cs_;
  return WithConn(info, false,
      [out, flags](virConnectPtr c, ErrorInfo&) {
        virStoragePoolPtr* pools = nullptr;
        int n = virConnectListAllStoragePools(c, &pools, flags);
        if (n < 0) return false;
        out->assign(pools, pools + n);
        free(pools);
        return true;
      },
      [out, cs](Napi::Env env) -> Napi::Value {
        Napi::Array arr = Napi::Array::New(env, out->size());
        for (size_t i = 0; i < out->size(); i++) arr.Set(static_cast<uint32_t>(i), WrapPool(env, (*out)[i], cs));
        out->clear();
        return arr;
      });
}

Napi::Value Connection::LookupStoragePoolByName(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "name");
  auto out = std::make_shared<virStoragePoolPtr>(nullptr);
  return WithConn(info, false,
      [out, name](virConnectPtr c, ErrorInfo&) { return (*out = virStoragePoolLookupByName(c, name.c_str())) != nullptr; },
      DonePool(out, cs_));
}

Napi::Value Connection::LookupStorageVolByPath(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  auto out = std::make_shared<virStorageVolPtr>(nullptr);
  ConnStatePtr cs = cs_;
  return WithConn(info, false,
      [out, path](virConnectPtr c, ErrorInfo&) { return (*out = virStorageVolLookupByPath(c, path.c_str())) != nullptr; },
      [out, cs](Napi::Env env) -> Napi::Value {
        virStorageVolPtr v = *out;
        *out = nullptr;
        return WrapVolume(env, v, cs);
      });
}

Napi::Value Connection::DefineStoragePool(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  unsigned int flags = ArgFlags(info, 1);
  auto out = std::make_shared<virStoragePoolPtr>(nullptr);
  return WithConn(info, false,
      [out, xml, flags](virConnectPtr c, ErrorInfo&) { return (*out = virStoragePoolDefineXML(c, xml.c_str(), flags)) != nullptr; },
      DonePool(out, cs_));
}

Napi::Value Connection::CreateStoragePool(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  unsigned int flags = ArgFlags(info, 1);
  auto out = std::make_shared<virStoragePoolPtr>(nullptr);
  return WithConn(info, true,
      [out, xml, flags](virConnectPtr c, ErrorInfo&) { return (*out = virStoragePoolCreateXML(c, xml.c_str(), flags)) != nullptr; },
      DonePool(out, cs_));
}
