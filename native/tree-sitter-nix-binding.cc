// N-API binding for the tree-sitter-nix grammar. The grammar's npm package ships
// a nan binding that tree-sitter >= 0.21 rejects ("Invalid language object");
// this exports the language the way node-tree-sitter expects it: an External
// tagged with the language type tag, under the `language` property.
#include <napi.h>

typedef struct TSLanguage TSLanguage;
extern "C" const TSLanguage *tree_sitter_nix();

// Same tag as node-tree-sitter's src/language.cc (b2sum of "tree-sitter" + "language").
static const napi_type_tag LANGUAGE_TYPE_TAG = {0x8AF2E5212AD58ABF, 0xD5006CAD83ABBA16};

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto language = Napi::External<TSLanguage>::New(env, const_cast<TSLanguage *>(tree_sitter_nix()));
  language.TypeTag(&LANGUAGE_TYPE_TAG);
  exports["language"] = language;
  return exports;
}

NODE_API_MODULE(tree_sitter_nix_binding, Init)
