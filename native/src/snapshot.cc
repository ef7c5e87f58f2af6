// Snapshots: Domain's snapshot methods and the Snapshot wrapper (virDomainSnapshotPtr).
#include "domain.h"

namespace {

class Snapshot : public Napi::ObjectWrap<Snapshot> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Snapshot", {
        InstanceMethod("getName", &Snapshot::GetName),
        InstanceMethod("getXMLDesc", &Snapshot::GetXMLDesc),
        InstanceMethod("delete", &Snapshot::Delete),
        InstanceMethod("revert", &Snapshot::Revert),
        InstanceMethod("isCurrent", &Snapshot::IsCurrent),
        InstanceMethod("getParent", &Snapshot::GetParent),
    });
  }
  explicit Snapshot(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Snapshot>(info) {}
  ~Snapshot() override {
    if (!snap_) return;
    virDomainSnapshotPtr s = snap_;
    snap_ = nullptr;
    if (g_envTearingDown) return;
    if (cs_ && cs_->closed) FreeOffThread([s]() { virDomainSnapshotFree(s); });
    else virDomainSnapshotFree(s);
  }

  virDomainSnapshotPtr snap_ = nullptr;
  ConnStatePtr cs_;

 private:
  using SnapExec = std::function<bool(virDomainSnapshotPtr, ErrorInfo&)>;
  Napi::Value With(const Napi::CallbackInfo& info, bool longCall, SnapExec exec, DoneFn done) {
    Napi::Env env = info.Env();
    if (!snap_ || !cs_ || cs_->closed) return Rejected(env, ErrorInfo::Closed());
    SnapRef ref = RefOf(snap_);
    return Run(env, longCall, [ref, exec](ErrorInfo& err) { return exec(ref.get(), err); }, std::move(done));
  }

  Napi::Value GetName(const Napi::CallbackInfo& info) {
    const char* n = snap_ ? virDomainSnapshotGetName(snap_) : nullptr;
    return Napi::String::New(info.Env(), n ? n : "");
  }
  Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
    unsigned int flags = ArgFlags(info, 0);
    auto s = std::make_shared<std::string>();
    return With(info, false,
        [s, flags](virDomainSnapshotPtr p, ErrorInfo&) {
          char* x = virDomainSnapshotGetXMLDesc(p, flags);
          if (!x) return false;
          *s = x;
          free(x);
          return true;
        },
        [s](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *s); });
  }
  Napi::Value Delete(const Napi::CallbackInfo& info) {
    unsigned int flags = ArgFlags(info, 0);
    // Long: deleting an internal snapshot rewrites qcow2 metadata; merging external ones copies data.
    return With(info, true, [flags](virDomainSnapshotPtr p, ErrorInfo&) { return virDomainSnapshotDelete(p, flags) == 0; },
                DoneUndefined());
  }
  Napi::Value Revert(const Napi::CallbackInfo& info) {
    unsigned int flags = ArgFlags(info, 0);
    return With(info, true, [flags](virDomainSnapshotPtr p, ErrorInfo&) { return virDomainRevertToSnapshot(p, flags) == 0; },
                DoneUndefined());
  }
  Napi::Value IsCurrent(const Napi::CallbackInfo& info) {
    auto out = std::make_shared<int>(0);
    return With(info, false, [out](virDomainSnapshotPtr p, ErrorInfo&) { return (*out = virDomainSnapshotIsCurrent(p, 0)) >= 0; },
                [out](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *out == 1); });
  }
  Napi::Value GetParent(const Napi::CallbackInfo& info) {
    auto out = std::make_shared<virDomainSnapshotPtr>(nullptr);
    ConnStatePtr cs = cs_;
    return With(info, false,
        [out](virDomainSnapshotPtr p, ErrorInfo&) {
          *out = virDomainSnapshotGetParent(p, 0);
          if (*out) return true;
          virErrorPtr e = virGetLastError();
          if (e && e->code == VIR_ERR_NO_DOMAIN_SNAPSHOT) {  // no parent: resolve null
            virResetLastError();
            return true;
          }
          return false;
        },
        [out, cs](Napi::Env env) -> Napi::Value {
          if (!*out) return env.Null();
          virDomainSnapshotPtr s = *out;
          *out = nullptr;
          return WrapSnapshot(env, s, cs);
        });
  }
};

}  // namespace

Napi::Function InitSnapshot(Napi::Env env) { return Snapshot::Init(env); }

Napi::Object WrapSnapshot(Napi::Env env, virDomainSnapshotPtr s, const ConnStatePtr& cs) {
  Napi::Object obj = Data(env)->snapshotCtor.New({});
  Snapshot* w = Snapshot::Unwrap(obj);
  w->snap_ = s;
  w->cs_ = cs;
  return obj;
}

Napi::Value Domain::SnapshotCreateXML(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  unsigned int flags = ArgFlags(info, 1);
  auto out = std::make_shared<virDomainSnapshotPtr>(nullptr);
  ConnStatePtr cs = cs_;
  // Long: a full (memory + disk) snapshot of a running guest takes as long as saving its RAM.
  return WithDomain(info, true,
      [out, xml, flags](virDomainPtr d, ErrorInfo&) { return (*out = virDomainSnapshotCreateXML(d, xml.c_str(), flags)) != nullptr; },
      [out, cs](Napi::Env env) -> Napi::Value {
        virDomainSnapshotPtr s = *out;
        *out = nullptr;
        return WrapSnapshot(env, s, cs);
      });
}

Napi::Value Domain::ListAllSnapshots(const Napi::CallbackInfo& info) {
  unsigned int flags = ArgFlags(info, 0);
  auto out = std::make_shared<std::vector<virDomainSnapshotPtr>>();
  ConnStatePtr cs = cs_;
  return WithDomain(info, false,
      [out, flags](virDomainPtr d, ErrorInfo&) {
        virDomainSnapshotPtr* snaps = nullptr;
        int n = virDomainListAllSnapshots(d, &snaps, flags);
        if (n < 0) return false;
        out->assign(snaps, snaps + n);
        free(snaps);
        return true;
      },
      [out, cs](Napi::Env env) -> Napi::Value {
        Napi::Array arr = Napi::Array::New(env, out->size());
        for (size_t i = 0; i < out->size(); i++) arr.Set(static_cast<uint32_t>(i), WrapSnapshot(env, (*out)[i], cs));
        out->clear();
        return arr;
      });
}

Napi::Value Domain::SnapshotLookupByName(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "name");
  auto out = std::make_shared<virDomainSnapshotPtr>(nullptr);
  ConnStatePtr cs = cs_;
  return WithDomain(info, false,
      [out, name](virDomainPtr d, ErrorInfo&) { return (*out = virDomainSnapshotLookupByName(d, name.c_str(), 0)) != nullptr; },
      [out, cs](Napi::Env env) -> Napi::Value {
        virDomainSnapshotPtr s = *out;
        *out = nullptr;
        return WrapSnapshot(env, s, cs);
      });
}

Napi::Value Domain::SnapshotCurrent(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<virDomainSnapshotPtr>(nullptr);
  ConnStatePtr cs = cs_;
  return WithDomain(info, false,
      [out](virDomainPtr d, ErrorInfo&) { return (*out = virDomainSnapshotCurrent(d, 0)) != nullptr; },
      [out, cs](Napi::Env env) -> Napi::Value {
        virDomainSnapshotPtr s = *out;
        *out = nullptr;
        return WrapSnapshot(env, s, cs);
      });
}

Napi::Value Domain::HasCurrentSnapshot(const Napi::CallbackInfo& info) {
  return BoolCall(info, [](virDomainPtr d) { return virDomainHasCurrentSnapshot(d, 0); });
}
