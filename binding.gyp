{
  "targets": [
    {
      "target_name": "tree_sitter_nix_binding",
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "node_modules/tree-sitter-nix/src",
        "node_modules/tree-sitter/vendor/tree-sitter/lib/include",
        "node_modules/tree-sitter/vendor/tree-sitter/lib/src"
      ],
      "sources": [
        "native/tree-sitter-nix-binding.cc",
        "native/flatten.c",
        "node_modules/tree-sitter-nix/src/parser.c",
        "node_modules/tree-sitter-nix/src/scanner.c",
        "node_modules/tree-sitter/vendor/tree-sitter/lib/src/lib.c"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_POSIX_C_SOURCE=200112L", "_DEFAULT_SOURCE"],
      "cflags": ["-fvisibility=hidden"],
      "cflags_c": ["-std=c11", "-O2"],
      "cflags_cc": ["-std=c++17", "-O2"]
    }
  ]
}
