{
  "targets": [
    {
      "target_name": "tree_sitter_nix_binding",
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "node_modules/tree-sitter-nix/src"
      ],
      "sources": [
        "native/tree-sitter-nix-binding.cc",
        "node_modules/tree-sitter-nix/src/parser.c",
        "node_modules/tree-sitter-nix/src/scanner.c"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_c": ["-std=c11", "-O2"],
      "cflags_cc": ["-O2"]
    }
  ]
}
