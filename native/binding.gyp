{
  "targets": [
    {
      "target_name": "novalet_libvirt",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/args.cc",
        "src/worker.cc",
        "src/typed_params.cc",
        "src/events.cc",
        "src/connection.cc",
        "src/connection_host.cc",
        "src/domain.cc",
        "src/domain_jobs.cc",
        "src/snapshot.cc",
        "src/storage.cc",
        "src/secret.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "<!@(pkg-config --cflags libvirt)"],
      "libraries": ["<!@(pkg-config --libs libvirt)", "-lpthread"]
    }
  ]
}
